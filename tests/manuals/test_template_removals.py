"""Sections the lead removes from a template are reported to the clones; the agent decides."""

import pytest
from django.urls import reverse

from manuals.integrity import check_trees
from manuals.models import Section
from manuals.team_templates.cloning import clone_template
from manuals.team_templates.removals import RemovalRefused, decide_removed, removed_sections
from manuals.team_templates.sync import NEW, pending_updates, template_status
from manuals.tree import (
    SectionContent,
    add_section,
    purge_section,
    restore_section,
    save_section_content,
    trash_section,
)
from tests.conftest import section_titled


def removed_titles(manual) -> list[str]:
    return [item.copy.title for item in removed_sections(manual=manual)]


def updates_page(client, manual) -> str:
    return client.get(reverse("manuals:template_updates", args=[manual.pk])).content.decode()


def decide(client, manual, section, decision: str):
    return client.post(
        reverse("manuals:template_removal_decide", args=[manual.pk, section.pk]),
        {"decision": decision},
        follow=True,
    )


def test_a_section_the_lead_removes_is_listed_for_the_agent_and_nothing_is_deleted(
    client, template, alice_clone, lena, alice
):
    trash_section(section=section_titled(template, "常用话术"), user=lena)
    mine = section_titled(alice_clone, "常用话术")
    assert removed_titles(alice_clone) == ["常用话术"]
    assert mine.trashed_at is None  # still in her manual, untouched
    client.force_login(alice)
    page = updates_page(client, alice_clone)
    assert f'id="removed-{mine.pk}"' in page and "模板删除了这些章节" in page
    assert "保留我的" in page and "删除（移到回收站）" in page
    assert "你的手册已包含模板的所有更新" not in page
    # The manual's "template updates" link counts it.
    manual_page = client.get(reverse("manuals:manual", args=[alice_clone.pk])).content.decode()
    assert "模板有 1 处更新" in manual_page


def test_a_removed_chapter_is_one_decision_for_its_subsections(template, alice_clone, lena, alice):
    add_section(
        manual=alice_clone, target=section_titled(alice_clone, "项目资料"),
        content=SectionContent(title="我自己的笔记"), user=alice,
    )  # fmt: skip
    trash_section(section=section_titled(template, "项目资料"), user=lena)
    [chapter] = removed_sections(manual=alice_clone)
    assert chapter.copy.title == "项目资料"
    assert chapter.subsections == 3  # two from the template and her own note
    trashed = decide_removed(
        manual=alice_clone, section_id=chapter.copy.pk, decision="delete", user=alice
    )
    assert trashed.trashed_root
    gone = {s.title for s in Section.objects.filter(manual=alice_clone, trashed_at__isnull=False)}
    assert gone == {"项目资料", "产品常见问题", "联系人与对接渠道", "我自己的笔记"}
    restore_section(section=trashed, user=alice)  # nothing was lost
    assert section_titled(alice_clone, "我自己的笔记").trashed_at is None
    assert check_trees() == []


def test_keeping_an_edited_section_makes_it_the_agents_own(
    client, template, alice_clone, lena, alice
):
    mine = section_titled(alice_clone, "术语表")
    save_section_content(
        section=mine, expected_version=mine.version,
        content=SectionContent(title="术语表", body="<p>我的术语</p>"), user=alice,
    )  # fmt: skip
    trash_section(section=section_titled(template, "术语表"), user=lena)
    client.force_login(alice)
    assert "你修改过这一节" in updates_page(client, alice_clone)
    response = decide(client, alice_clone, mine, "keep")
    assert "已保留“术语表”" in response.content.decode()
    mine.refresh_from_db()
    assert mine.trashed_at is None and mine.body == "<p>我的术语</p>"
    assert mine.template_section_id is None
    assert removed_titles(alice_clone) == []
    assert 'id="up-to-date"' in updates_page(client, alice_clone)
    # If the lead brings it back, it is offered as a new section, never merged silently.
    restore_section(section=section_titled(template, "术语表"), user=lena)
    assert [(p.kind, p.template_section.title) for p in pending_updates(manual=alice_clone)] == [
        (NEW, "术语表")
    ]


def test_deleting_from_the_page_moves_the_section_to_the_trash(
    client, template, alice_clone, lena, alice
):
    trash_section(section=section_titled(template, "常用话术"), user=lena)
    mine = section_titled(alice_clone, "常用话术")
    client.force_login(alice)
    response = decide(client, alice_clone, mine, "delete")
    assert "已移到回收站" in response.content.decode()
    mine.refresh_from_db()
    assert mine.trashed_root and Section.objects.filter(pk=mine.pk).exists()
    assert removed_titles(alice_clone) == []


def test_a_section_deleted_for_good_in_the_template_is_still_reported(
    template, alice_clone, lena, alice
):
    removed = section_titled(template, "每日工作记录")
    trash_section(section=removed, user=lena)
    purge_section(section=removed, user=lena)
    mine = section_titled(alice_clone, "每日工作记录")
    assert mine.template_section_id is None and mine.template_removed_at is not None
    [item] = removed_sections(manual=alice_clone)
    assert item.copy.pk == mine.pk and item.removed_at == mine.template_removed_at
    decide_removed(manual=alice_clone, section_id=mine.pk, decision="keep", user=alice)
    mine.refresh_from_db()
    assert mine.template_removed_at is None and removed_titles(alice_clone) == []


def test_a_section_the_lead_restores_is_no_longer_reported(
    client, template, alice_clone, lena, alice
):
    removed = trash_section(section=section_titled(template, "常用话术"), user=lena)
    mine = section_titled(alice_clone, "常用话术")
    restore_section(section=removed, user=lena)
    assert removed_titles(alice_clone) == []
    with pytest.raises(RemovalRefused, match="不需要处理"):
        decide_removed(manual=alice_clone, section_id=mine.pk, decision="delete", user=alice)
    client.force_login(alice)
    response = decide(client, alice_clone, mine, "delete")  # a page opened before the restore
    assert "不需要处理" in response.content.decode()
    mine.refresh_from_db()
    assert mine.trashed_at is None


def test_what_the_agent_already_trashed_or_never_had_is_not_reported(
    template, alice_clone, lena, alice
):
    trash_section(section=section_titled(alice_clone, "常用话术"), user=alice)
    trash_section(section=section_titled(template, "常用话术"), user=lena)
    assert removed_titles(alice_clone) == []
    late = clone_template(template=template, owner=lena)  # cloned after the removal
    assert removed_sections(manual=late) == []


def test_nobody_else_decides_for_the_agent(client, template, alice_clone, lena, bob, carol):
    trash_section(section=section_titled(template, "常用话术"), user=lena)
    mine = section_titled(alice_clone, "常用话术")
    for user in (bob, lena, carol):
        client.force_login(user)
        response = client.post(
            reverse("manuals:template_removal_decide", args=[alice_clone.pk, mine.pk]),
            {"decision": "delete"},
        )
        assert response.status_code == 404
    with pytest.raises(RemovalRefused):
        decide_removed(manual=alice_clone, section_id=mine.pk, decision="delete", user=bob)
    mine.refresh_from_db()
    assert mine.trashed_at is None


def test_the_removals_read_in_english(client, template, alice_clone, lena, alice):
    from django.conf import settings

    from tests.test_english_pages import chinese_chrome

    trash_section(section=section_titled(template, "项目资料"), user=lena)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(alice)
    page = updates_page(client, alice_clone)
    assert "Sections the template removed" in page and "It has 2 subsections" in page
    assert chinese_chrome(page) == []


def test_the_lead_sees_who_has_removals_to_decide(client, template, alice_clone, lena, bob):
    bob_clone = clone_template(template=template, owner=bob)
    trash_section(section=section_titled(template, "项目资料"), user=lena)  # with 2 subsections
    trash_section(section=section_titled(template, "术语表"), user=lena)
    trash_section(section=section_titled(bob_clone, "术语表"), user=bob)  # bob already removed his
    status = {s.manual.owner.username: s for s in template_status(template=template)}
    assert (status["alice"].removed, status["alice"].behind) == (2, 2)
    assert (status["bob"].removed, status["bob"].behind) == (1, 1)
    client.force_login(lena)
    page = client.get(reverse("manuals:template_status", args=[template.pk])).content.decode()
    assert "模板删除" in page and "落后 2 处" in page and "落后 1 处" in page
