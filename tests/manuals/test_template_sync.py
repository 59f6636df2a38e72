"""Template updates reach manuals cloned from the template, and never clobber an agent."""

import pytest
from django.urls import reverse

from manuals.integrity import check_trees
from manuals.models import Manual, Revision, Section
from manuals.team_templates.cloning import clone_template
from manuals.team_templates.sync import (
    CHANGED,
    KEEP_MINE,
    MERGE,
    NEW,
    TAKE_TEMPLATE,
    UpdateRefused,
    accept_change,
    accept_new,
    pending_updates,
    skip_update,
    template_status,
)
from manuals.tree import (
    EditConflict,
    SectionContent,
    add_section,
    save_section_content,
    trash_section,
)
from tests.conftest import section_titled


def edit(section, *, title=None, body, user):
    section.refresh_from_db()
    return save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(
            title=title or section.title, body=body, kind=section.kind,
            visibility=section.visibility,
        ),
        user=user,
    )  # fmt: skip


def by_title(pending):
    return {p.template_section.title: p for p in pending}


def test_a_fresh_clone_has_nothing_pending(alice_clone):
    assert pending_updates(manual=alice_clone) == []


def test_template_edits_and_new_sections_show_up_with_a_diff(template, alice_clone, lena):
    edit(
        section_titled(template, "常用话术"),
        body="<p>开场：您好，青禾客服为您服务。</p>",
        user=lena,
    )
    chapter = section_titled(template, "管理制度")
    add_section(
        manual=template, target=chapter,
        content=SectionContent(title="退换货政策", body="<p>七天无理由</p>"), user=lena,
    )  # fmt: skip
    pending = by_title(pending_updates(manual=alice_clone))
    assert set(pending) == {"常用话术", "退换货政策"}
    assert pending["常用话术"].kind == CHANGED and not pending["常用话术"].edited
    assert pending["退换货政策"].kind == NEW
    changed_rows = [r for r in pending["常用话术"].rows if r.kind != "equal"]
    assert any("青禾客服" in str(r.right) for r in changed_rows)


def test_a_save_that_changes_nothing_is_not_an_update(template, alice_clone, lena):
    glossary = section_titled(template, "术语表")
    edit(glossary, body=glossary.body, user=lena)
    assert pending_updates(manual=alice_clone) == []


def test_accepting_an_untouched_section_takes_the_template_version(
    template, alice_clone, lena, alice
):
    ts = edit(section_titled(template, "常用话术"), body="<p>新话术</p>", user=lena)
    copy = section_titled(alice_clone, "常用话术")
    accept_change(
        manual=alice_clone, template_section_id=ts.pk, expected_template_version=ts.version,
        expected_version=copy.version, user=alice,
    )  # fmt: skip
    copy.refresh_from_db()
    assert copy.body == "<p>新话术</p>"
    assert copy.template_version == ts.version
    assert copy.revisions.count() == 2  # the old text is still in the history
    assert pending_updates(manual=alice_clone) == []


def test_accepting_never_loses_what_the_agent_wrote(template, alice_clone, lena, alice):
    mine = edit(section_titled(alice_clone, "常用话术"), body="<p>我自己的开场白</p>", user=alice)
    ts = edit(section_titled(template, "常用话术"), body="<p>模板的新开场白</p>", user=lena)
    item = by_title(pending_updates(manual=alice_clone))["常用话术"]
    assert item.edited
    accept_change(
        manual=alice_clone, template_section_id=ts.pk, expected_template_version=ts.version,
        expected_version=mine.version, choice=TAKE_TEMPLATE, user=alice,
    )  # fmt: skip
    copy = section_titled(alice_clone, "常用话术")
    assert copy.body == "<p>模板的新开场白</p>"
    bodies = list(copy.revisions.values_list("body", flat=True))
    assert "<p>我自己的开场白</p>" in bodies


def test_keeping_mine_stores_the_template_version_in_the_history(
    template, alice_clone, lena, alice
):
    mine = edit(section_titled(alice_clone, "常用话术"), body="<p>我自己的开场白</p>", user=alice)
    ts = edit(section_titled(template, "常用话术"), body="<p>模板的新开场白</p>", user=lena)
    accept_change(
        manual=alice_clone, template_section_id=ts.pk, expected_template_version=ts.version,
        expected_version=mine.version, choice=KEEP_MINE, user=alice,
    )  # fmt: skip
    copy = section_titled(alice_clone, "常用话术")
    assert copy.body == "<p>我自己的开场白</p>"
    assert Revision.objects.filter(section=copy, body="<p>模板的新开场白</p>").exists()
    assert pending_updates(manual=alice_clone) == []
    # Still the agent's own text: the next template change asks again, with the choice.
    ts = edit(ts, body="<p>模板第三版</p>", user=lena)
    assert by_title(pending_updates(manual=alice_clone))["常用话术"].edited


def test_both_keeps_mine_and_appends_the_template(template, alice_clone, lena, alice):
    mine = edit(section_titled(alice_clone, "常用话术"), body="<p>我自己的开场白</p>", user=alice)
    ts = edit(section_titled(template, "常用话术"), body="<p>模板的新开场白</p>", user=lena)
    accept_change(
        manual=alice_clone, template_section_id=ts.pk, expected_template_version=ts.version,
        expected_version=mine.version, choice=MERGE, user=alice,
    )  # fmt: skip
    body = section_titled(alice_clone, "常用话术").body
    assert body.index("我自己的开场白") < body.index("模板的新开场白")


def test_an_edit_racing_with_the_update_is_not_overwritten(template, alice_clone, lena, alice):
    shown = section_titled(alice_clone, "常用话术")  # the version the diff page showed
    ts = edit(section_titled(template, "常用话术"), body="<p>模板的新开场白</p>", user=lena)
    edit(shown, body="<p>我在另一个标签页刚写的</p>", user=alice)
    with pytest.raises(EditConflict):
        accept_change(
            manual=alice_clone, template_section_id=ts.pk, expected_template_version=ts.version,
            expected_version=shown.version, user=alice,
        )  # fmt: skip
    assert section_titled(alice_clone, "常用话术").body == "<p>我在另一个标签页刚写的</p>"
    # Offered again, now marked as edited by the agent.
    assert by_title(pending_updates(manual=alice_clone))["常用话术"].edited


def test_a_template_changed_again_after_the_diff_was_shown_is_refused(
    template, alice_clone, lena, alice
):
    ts = edit(section_titled(template, "常用话术"), body="<p>第二版</p>", user=lena)
    shown_version = ts.version
    edit(ts, body="<p>第三版</p>", user=lena)
    copy = section_titled(alice_clone, "常用话术")
    with pytest.raises(UpdateRefused, match="又修改了模板"):
        accept_change(
            manual=alice_clone, template_section_id=ts.pk, expected_template_version=shown_version,
            expected_version=copy.version, user=alice,
        )  # fmt: skip
    assert section_titled(alice_clone, "常用话术").version == copy.version


def test_accepting_a_new_section_puts_it_where_the_template_has_it(
    template, alice_clone, lena, alice
):
    after = section_titled(template, "考勤与排班")
    new = add_section(
        manual=template, target=after, position="right",
        content=SectionContent(title="加班制度", body="<p>提前申请</p>"), user=lena,
    )  # fmt: skip
    copy = accept_new(
        manual=alice_clone, template_section_id=new.pk, expected_template_version=new.version,
        user=alice,
    )  # fmt: skip
    assert copy.template_section_id == new.pk and copy.manual_id == alice_clone.pk
    assert copy.get_previous_sibling().title == "考勤与排班"
    assert copy.parent.title == "管理制度"
    assert pending_updates(manual=alice_clone) == []
    with pytest.raises(UpdateRefused, match="已经有"):
        accept_new(
            manual=alice_clone, template_section_id=new.pk,
            expected_template_version=new.version, user=alice,
        )  # fmt: skip
    assert check_trees() == []


def test_skipping_hides_an_update_until_the_template_changes_again(
    template, alice_clone, lena, alice
):
    ts = edit(section_titled(template, "常用话术"), body="<p>第二版</p>", user=lena)
    skip_update(
        manual=alice_clone, template_section_id=ts.pk, expected_template_version=ts.version,
        user=alice,
    )  # fmt: skip
    assert pending_updates(manual=alice_clone) == []
    edit(ts, body="<p>第三版</p>", user=lena)
    assert set(by_title(pending_updates(manual=alice_clone))) == {"常用话术"}


def test_a_section_the_agent_deleted_is_not_offered_again(template, alice_clone, lena, alice):
    trash_section(section=section_titled(alice_clone, "常用话术"), user=alice)
    edit(section_titled(template, "常用话术"), body="<p>第二版</p>", user=lena)
    assert pending_updates(manual=alice_clone) == []


def test_the_lead_sees_who_is_behind(template, alice_clone, lena, bob):
    bob_clone = clone_template(template=template, owner=bob)
    ts = edit(section_titled(template, "常用话术"), body="<p>第二版</p>", user=lena)
    accept_change(
        manual=bob_clone, template_section_id=ts.pk, expected_template_version=ts.version,
        expected_version=section_titled(bob_clone, "常用话术").version, user=bob,
    )  # fmt: skip
    status = {s.manual.owner.username: s for s in template_status(template=template)}
    assert status["alice"].changed == 1 and status["alice"].behind == 1
    assert status["bob"].behind == 0


def test_another_agent_cannot_decide_for_my_manual(template, alice_clone, lena, bob):
    ts = edit(section_titled(template, "常用话术"), body="<p>第二版</p>", user=lena)
    copy = section_titled(alice_clone, "常用话术")
    with pytest.raises(UpdateRefused):
        accept_change(
            manual=alice_clone, template_section_id=ts.pk, expected_template_version=ts.version,
            expected_version=copy.version, user=bob,
        )  # fmt: skip
    assert section_titled(alice_clone, "常用话术").version == copy.version


def test_deleting_a_template_with_clones_is_refused_and_retiring_keeps_them(
    client, template, alice_clone, lena
):
    client.force_login(lena)
    response = client.post(reverse("manuals:template_delete", args=[template.pk]), follow=True)
    assert "不能删除" in response.content.decode()
    assert Manual.objects.filter(pk=template.pk).exists()
    client.post(reverse("manuals:template_retire", args=[template.pk]), {"retire": "1"})
    template.refresh_from_db()
    assert template.archived_at is not None
    alice_clone.refresh_from_db()
    assert alice_clone.template_id == template.pk
    assert Section.objects.filter(manual=alice_clone).count() > 10


def test_a_template_without_clones_can_be_deleted(client, lena):
    from manuals.team_templates.curation import create_template

    spare = create_template(lead=lena, title="试用模板", start_from="blank")
    client.force_login(lena)
    client.post(reverse("manuals:template_delete", args=[spare.pk]))
    assert not Manual.objects.filter(pk=spare.pk).exists()
    assert check_trees() == []


def test_a_clone_whose_template_vanished_still_works(client, template, alice_clone, alice):
    # As if an admin removed the template at the database level.
    Manual.objects.filter(pk=template.pk).update(root=None)
    Section.objects.filter(manual=template).delete()
    Manual.objects.filter(pk=template.pk).delete()
    alice_clone.refresh_from_db()
    assert alice_clone.template_id is None
    assert pending_updates(manual=alice_clone) == []
    client.force_login(alice)
    page = client.get(reverse("manuals:template_updates", args=[alice_clone.pk])).content.decode()
    assert "来源模板已被删除" in page
    assert client.get(reverse("manuals:manual", args=[alice_clone.pk])).status_code == 200
    assert check_trees() == []


# --- views -------------------------------------------------------------------------------


def test_the_updates_page_shows_a_diff_and_accepting_applies_it(
    client, template, alice_clone, lena, alice
):
    ts = edit(section_titled(template, "常用话术"), body="<p>青禾客服为您服务</p>", user=lena)
    client.force_login(alice)
    manual_page = client.get(reverse("manuals:manual", args=[alice_clone.pk])).content.decode()
    assert "模板有 1 处更新" in manual_page
    page = client.get(reverse("manuals:template_updates", args=[alice_clone.pk])).content.decode()
    assert "青禾" in page and 'class="diff"' in page and "<ins>" in page
    copy = section_titled(alice_clone, "常用话术")
    response = client.post(
        reverse("manuals:template_update_decide", args=[alice_clone.pk, ts.pk]),
        {"action": "accept", "template_version": ts.version, "version": copy.version},
    )
    assert response.status_code == 302
    assert section_titled(alice_clone, "常用话术").body == "<p>青禾客服为您服务</p>"


def test_the_updates_page_offers_the_three_way_choice_for_edited_sections(
    client, template, alice_clone, lena, alice
):
    edit(section_titled(alice_clone, "常用话术"), body="<p>我的</p>", user=alice)
    edit(section_titled(template, "常用话术"), body="<p>模板的</p>", user=lena)
    client.force_login(alice)
    page = client.get(reverse("manuals:template_updates", args=[alice_clone.pk])).content.decode()
    for label in ["你修改过这一节", "采用模板版本", "保留我的版本", "两者都要"]:
        assert label in page


def test_the_lead_status_page_lists_who_is_behind(client, template, alice_clone, lena):
    edit(section_titled(template, "常用话术"), body="<p>第二版</p>", user=lena)
    client.force_login(lena)
    overview = client.get(reverse("manuals:templates")).content.decode()
    assert "1 人落后" in overview
    page = client.get(reverse("manuals:template_status", args=[template.pk])).content.decode()
    assert "王丽" in page and "落后 1 处" in page


def test_a_lead_creates_a_template_from_the_default_content(client, lena):
    client.force_login(lena)
    response = client.post(
        reverse("manuals:template_new"), {"title": "新人培训模板", "start_from": "default"}
    )
    template = Manual.objects.get(title="新人培训模板")
    assert template.is_template and template.owner == lena
    assert response["Location"].endswith(f"/manual/{template.pk}/")
    assert section_titled(template, "术语表")


@pytest.mark.parametrize(
    "name,method",
    [
        ("templates", "get"),
        ("template_new", "post"),
        ("template_status", "get"),
        ("template_retire", "post"),
        ("template_delete", "post"),
    ],
)
def test_template_curation_is_for_the_teams_lead_only(client, template, alice, carol, name, method):
    args = [] if name in ("templates", "template_new") else [template.pk]
    url = reverse(f"manuals:{name}", args=args)
    for user in (alice, carol):
        client.force_login(user)
        if method == "get":
            response = client.get(url)
        else:
            response = client.post(url, {"title": "x", "retire": "1"})
        assert response.status_code == 404, (name, user)
    template.refresh_from_db()
    assert template.archived_at is None
    assert Manual.objects.filter(title="x").count() == 0


def test_someone_elses_updates_page_is_not_found(client, template, alice_clone, lena, bob, carol):
    ts = edit(section_titled(template, "常用话术"), body="<p>第二版</p>", user=lena)
    copy = section_titled(alice_clone, "常用话术")
    for user in (bob, carol, lena):
        client.force_login(user)
        assert (
            client.get(reverse("manuals:template_updates", args=[alice_clone.pk])).status_code
            == 404
        )
        response = client.post(
            reverse("manuals:template_update_decide", args=[alice_clone.pk, ts.pk]),
            {"action": "accept", "template_version": ts.version, "version": copy.version},
        )
        assert response.status_code == 404
    assert section_titled(alice_clone, "常用话术").version == copy.version


def test_accept_all_takes_only_what_cannot_clobber(client, template, alice_clone, lena, alice):
    edit(section_titled(alice_clone, "常用话术"), body="<p>我的</p>", user=alice)
    edit(section_titled(template, "常用话术"), body="<p>模板的</p>", user=lena)
    edit(section_titled(template, "术语表"), body="<p>新术语</p>", user=lena)
    add_section(
        manual=template, target=section_titled(template, "学习工具"),
        content=SectionContent(title="快捷键", body="<p>Ctrl+F</p>"), user=lena,
    )  # fmt: skip
    client.force_login(alice)
    response = client.post(
        reverse("manuals:template_updates_accept_all", args=[alice_clone.pk]), follow=True
    )
    assert "已采用 2 处更新" in response.content.decode()
    assert section_titled(alice_clone, "常用话术").body == "<p>我的</p>"
    assert section_titled(alice_clone, "术语表").body == "<p>新术语</p>"
    assert section_titled(alice_clone, "快捷键").parent.title == "学习工具"
    assert set(by_title(pending_updates(manual=alice_clone))) == {"常用话术"}
    client.force_login(lena)
    url = reverse("manuals:template_updates_accept_all", args=[alice_clone.pk])
    assert client.post(url).status_code == 404


def test_both_merges_the_template_without_repeating_unchanged_paragraphs(
    template, alice_clone, lena, alice
):
    copy = section_titled(alice_clone, "常用话术")
    mine = edit(copy, body="<p>我的开头</p><p>共同一</p><p>共同二</p>", user=alice)
    ts = edit(
        section_titled(template, "常用话术"),
        body="<p>共同一</p><p>模板新增</p><p>共同二</p><p>模板结尾</p>",
        user=lena,
    )
    accept_change(
        manual=alice_clone, template_section_id=ts.pk, expected_template_version=ts.version,
        expected_version=mine.version, choice=MERGE, user=alice,
    )  # fmt: skip
    body = section_titled(alice_clone, "常用话术").body
    assert body == "<p>我的开头</p><p>共同一</p><p>模板新增</p><p>共同二</p><p>模板结尾</p>"


def test_a_skipped_addition_stays_listed_and_can_still_be_adopted(
    client, template, alice_clone, lena, alice
):
    chapter = section_titled(template, "管理制度")
    new = add_section(
        manual=template, target=chapter, position="last-child",
        content=SectionContent(title="新的退货规定", body="<p>七天无理由</p>"), user=lena,
    )  # fmt: skip
    skip_update(
        manual=alice_clone, template_section_id=new.pk, expected_template_version=new.version,
        user=alice,
    )  # fmt: skip
    client.force_login(alice)
    url = reverse("manuals:template_updates", args=[alice_clone.pk])
    page = client.get(url).content.decode()
    assert "你的手册已包含模板的所有更新" not in page
    assert f'id="skipped-{new.pk}"' in page and "七天无理由" in page
    assert "（在“管理制度”下）" in page  # where it would go, as for a pending one
    client.post(
        reverse("manuals:template_update_decide", args=[alice_clone.pk, new.pk]),
        {"action": "accept", "template_version": new.version},
    )
    assert Section.objects.filter(manual=alice_clone, title="新的退货规定").exists()
    assert "你的手册已包含模板的所有更新" in client.get(url).content.decode()
