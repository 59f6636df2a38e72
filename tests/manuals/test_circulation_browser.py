"""Day one and circulation as people do them, in Debian's Chromium."""

import pytest
from django.urls import reverse

from manuals.integrity import check_trees
from manuals.models import Manual, Section
from manuals.team_templates.cloning import clone_template
from manuals.team_templates.default_template import ensure_default_template
from manuals.tree import SectionContent, add_section, save_section_content, trash_section
from tests.conftest import log_in, section_titled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_hire_clicks_once_and_is_editing_her_own_manual(page, lena, alice):
    template = ensure_default_template(team=lena.member.team)
    log_in(page, "alice")
    page.goto(page.base_url + "/")
    button = page.locator("#start-my-manual")
    assert button.inner_text() == "从团队模板创建我的手册"
    button.click()
    page.wait_for_url("**/manual/*/")
    manual = Manual.objects.get(owner=alice)
    assert page.url.endswith(f"/manual/{manual.pk}/")
    assert manual.template_id == template.pk
    outline = page.locator("#outline li > .outline-row > a").all_inner_texts()
    assert outline[0] == "管理制度" and "复盘表（复制后填写）" in outline
    # It is hers: she opens a starter page and edits it.
    # (On the manual page the outline scrolls the document; the section page has 编辑.)
    starter = Section.objects.get(manual=manual, title="每日工作记录")
    page.goto(page.base_url + reverse("manuals:section", args=[manual.pk, starter.pk]))
    page.click("a[accesskey=e]")
    page.locator(".ProseMirror[contenteditable=true]").click()
    page.keyboard.type("今天处理了 23 个会话。")
    page.click("#save")
    page.wait_for_selector("#section-body")
    assert "今天处理了 23 个会话" in page.inner_text("#section-body")
    assert check_trees() == []


def test_copying_a_colleagues_shared_section_into_my_manual(
    page, alice, alice_manual, bob, bob_manual
):
    leave = section_titled(bob_manual, "请假流程")
    save_section_content(
        section=leave, expected_version=leave.version,
        content=SectionContent(title="请假流程", body="<p>先在系统里提交，再告诉组长。</p>",
                               visibility="shared"),
        user=bob,
    )  # fmt: skip
    chapter = section_titled(bob_manual, "管理制度")
    save_section_content(
        section=chapter, expected_version=chapter.version,
        content=SectionContent(title="管理制度", visibility="shared"), user=bob,
    )  # fmt: skip
    add_section(
        manual=bob_manual, target=leave,
        content=SectionContent(title="病假", body="<p>三天以上要证明</p>", visibility="shared"),
    )  # fmt: skip
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{bob_manual.pk}/section/{leave.pk}/")
    page.click("#copy-to-mine")
    page.wait_for_selector("#copy-form")
    target = section_titled(alice_manual, "管理制度")
    page.select_option("#destination", f"{alice_manual.pk}:{target.pk}")
    page.click("#copy-submit")
    page.wait_for_url(f"**/manual/{alice_manual.pk}/section/*/")
    assert "先在系统里提交" in page.inner_text("#section-body")
    assert "复制自 李波" in page.inner_text(".section-head")
    copy = Section.objects.get(manual=alice_manual, title="请假流程")
    assert copy.parent_id == target.pk and copy.origin_id == leave.pk
    assert Section.objects.filter(manual=alice_manual, title="病假", parent=copy).exists()
    assert check_trees() == []


def test_an_agent_decides_on_sections_the_template_removed(page, lena, alice):
    template = ensure_default_template(team=lena.member.team)
    manual = clone_template(template=template, owner=alice)
    trash_section(section=section_titled(template, "常用话术"), user=lena)
    trash_section(section=section_titled(template, "术语表"), user=lena)
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{manual.pk}/")
    link = page.locator("#template-updates-link")
    assert link.inner_text() == "模板有 2 处更新"
    link.click()
    page.wait_for_selector("#removed")
    phrases, glossary = section_titled(manual, "常用话术"), section_titled(manual, "术语表")
    page.click(f"#removed-{phrases.pk} button[value=delete]")
    page.wait_for_selector(f"#removed-{phrases.pk}", state="detached")
    assert "已移到回收站" in page.inner_text("body")
    page.click(f"#removed-{glossary.pk} button[value=keep]")
    page.wait_for_selector("#up-to-date")
    phrases.refresh_from_db()
    glossary.refresh_from_db()
    assert phrases.trashed_root and glossary.trashed_at is None
    assert glossary.template_section_id is None
    assert check_trees() == []
