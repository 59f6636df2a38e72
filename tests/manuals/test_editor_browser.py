"""The manual editor as a person uses it, in Debian's Chromium."""

import re

import pytest

from manuals.integrity import check_trees
from manuals.models import Section
from tests.conftest import log_in, section_titled, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def outline_titles(page) -> list[str]:
    return page.locator("#outline li > .outline-row > a").all_inner_texts()


def test_an_agent_builds_and_reorganises_her_manual(page, alice, alice_manual):
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/")
    assert outline_titles(page)[:3] == ["管理制度", "考勤制度", "质检标准"]

    # Add a chapter (the form stands open on the manual's front page) and write its body.
    page.fill("details.add-section input[name=title]", "售后话术")
    page.click("details.add-section button[type=submit]")
    page.wait_for_url("**/edit/")
    page.locator(".ProseMirror[contenteditable=true]").click()
    page.keyboard.type("客户说“七天无理由”时，先确认签收日期。订单号 TB20231105-8842。")
    page.click("#save")
    page.wait_for_selector("#section-body")
    assert "七天无理由" in page.inner_text("#section-body")
    assert outline_titles(page)[-1] == "售后话术"

    # Drag the new chapter before 管理制度.
    source = page.locator('#outline li > .outline-row > a:text-is("售后话术")')
    target = page.locator('#outline li > .outline-row:has(> a:text-is("管理制度"))')
    box = target.bounding_box()
    source.hover()
    page.mouse.down()
    page.mouse.move(box["x"] + 20, box["y"] + 2, steps=5)
    page.mouse.move(box["x"] + 20, box["y"] + 3, steps=2)
    page.mouse.up()
    wait_until(
        page, "document.querySelector('#outline li > .outline-row > a').textContent === '售后话术'"
    )
    assert outline_titles(page)[:2] == ["售后话术", "管理制度"]

    # Keyboard buttons: indent 学习工具 under 项目资料.
    page.click('#outline a:text-is("学习工具")')
    page.click("button[data-shift=indent]")
    page.wait_for_selector('#outline li[data-level="2"] > .outline-row > a:text-is("学习工具")')

    # Delete a chapter with its subtree, then restore it from the trash.
    page.click('#outline a:text-is("工作复盘")')
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.danger")
    page.wait_for_selector(".message")
    assert "工作复盘" not in outline_titles(page)
    assert "客户情绪" not in outline_titles(page)
    page.click(".sidebar-foot a")
    page.click("#trash-list button.primary")
    page.wait_for_selector("#section-body")
    titles = outline_titles(page)
    assert titles.index("工作复盘") < titles.index("2024-03 退款纠纷") < titles.index("客户情绪")
    assert check_trees() == []
    assert section_titled(alice_manual, "售后话术").get_previous_sibling() is None


def test_collapsing_a_chapter_hides_its_subsections(page, alice, alice_manual):
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/")
    sub = page.locator('#outline a:text-is("考勤制度")')
    assert sub.is_visible()
    page.locator(
        '#outline li:has(> .outline-row > a:text-is("管理制度")) > .outline-row .toggle'
    ).click()
    assert not sub.is_visible()
    page.reload()  # remembered across page loads
    assert not page.locator('#outline a:text-is("考勤制度")').is_visible()


def test_a_colleague_sees_only_shared_sections_read_only(page, bob, alice_manual):
    Section.objects.filter(manual=alice_manual, title="考勤制度").update(visibility="shared")
    log_in(page, "bob")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/")
    assert outline_titles(page) == ["考勤制度"]
    assert page.locator("details.add-section").count() == 0
    assert page.locator('#outline li[draggable="true"]').count() == 0


def test_toolbar_tooltips_follow_the_ui_language(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    Section.objects.filter(pk=section.pk).update(body="<h2>迟到</h2><p>考勤制度的内容</p>")
    log_in(page, "alice")
    edit_url = f"{page.base_url}/manual/{alice_manual.pk}/section/{section.pk}/edit/"

    def open_editor():
        page.goto(edit_url)
        page.wait_for_selector(".ProseMirror[contenteditable=true]")

    def tooltip(name: str) -> str:
        return page.get_attribute(f".prose-menubar__button[data-name={name}]", "title")

    def heading_tooltip() -> str:
        # The block-type picker shows the block the cursor is in.
        page.click(".ProseMirror[contenteditable=true] h2")
        return page.get_attribute(".prose-menubar__selected .prose-menubar__button", "title")

    open_editor()  # Chinese, the default
    assert tooltip("bold") == "加粗"
    assert page.get_attribute(".prose-menubar__button[data-name=bold]", "aria-label") == "加粗"
    assert tooltip("bulletList") == "项目符号列表"
    assert tooltip("italic") == "斜体"
    assert heading_tooltip() == "标题 2"
    titles = page.locator(".prose-menubar__button[title]").evaluate_all(
        "nodes => nodes.map(n => n.title)"
    )
    assert len(titles) > 20
    assert [t for t in titles if not re.search(r"[\u4e00-\u9fff]", t)] == []

    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    open_editor()
    assert tooltip("bold") == "Bold"
    assert tooltip("bulletList") == "Bulleted list"
    assert heading_tooltip() == "Heading 2"
    options = page.locator(".prose-menubar__option").all_text_contents()
    assert "Heading 3" in options and "Paragraph" in options
