"""Copying a colleague's shared section into my manual, and handing subtrees over."""

import io

import pytest
from django.urls import reverse
from PIL import Image as PILImage

from manuals.circulation.copying import CopyRefused, copy_into_my_manual
from manuals.circulation.handover import (
    COPY,
    MOVE,
    HandoverRefused,
    hand_over_subtree,
    set_archived,
    transfer_manual,
)
from manuals.images.pipeline import image_html, store_image
from manuals.integrity import check_trees
from manuals.models import Activity, Image, Revision, Section
from manuals.tree import SectionContent, TreeError, add_section, save_section_content
from tests.conftest import build_manual, section_titled


def share(section, *, user=None):
    section.refresh_from_db()
    return save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(
            title=section.title, body=section.body, kind=section.kind, visibility="shared"
        ),
        user=user,
    )


def png_bytes() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (30, 20), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def bob_case(bob_manual, bob):
    """bob's shared 请假流程 with a picture, a shared child and a private child."""
    leave = section_titled(bob_manual, "请假流程")
    image = store_image(manual=bob_manual, data=png_bytes(), original_name="审批.png", user=bob)
    leave.refresh_from_db()
    save_section_content(
        section=leave,
        expected_version=leave.version,
        content=SectionContent(
            title="请假流程", body=f"<p>先在系统提交</p>{image_html(image)}", visibility="shared"
        ),
        user=bob,
    )
    shared_child = add_section(
        manual=bob_manual, target=leave,
        content=SectionContent(title="病假证明", body="<p>三天以上要证明</p>", visibility="shared"),
    )  # fmt: skip
    add_section(
        manual=bob_manual, target=leave,
        content=SectionContent(title="我和主管的私下约定", body="<p>私事</p>"),
    )  # fmt: skip
    share(section_titled(bob_manual, "管理制度"))
    return section_titled(bob_manual, "请假流程"), shared_child, image


def test_copying_a_shared_subtree_takes_pictures_and_records_the_origin(
    alice_manual, alice, bob_case
):
    leave, shared_child, image = bob_case
    target_parent = section_titled(alice_manual, "管理制度")
    rows = copy_into_my_manual(
        source=leave, target_manual=alice_manual, parent=target_parent, user=alice
    )
    titles = [r.title for r in rows]
    assert titles == ["请假流程", "病假证明"]  # the private child stays with bob
    copy = Section.objects.get(pk=rows[0].pk)
    assert copy.manual_id == alice_manual.pk and copy.parent_id == target_parent.pk
    assert copy.origin_id == leave.pk and copy.copied_at is not None
    assert "李波" in copy.origin_note and "管理制度 › 请假流程" in copy.origin_note
    assert copy.visibility == "private"
    new_image = Image.objects.get(manual=alice_manual)
    assert f'data-image-id="{new_image.pk}"' in copy.body
    assert f'data-image-id="{image.pk}"' not in copy.body
    assert Section.objects.get(pk=rows[1].pk).parent_id == copy.pk
    assert Revision.objects.filter(section=copy).count() == 1
    assert Activity.objects.filter(kind="circulate", to_user=alice).count() == 1
    assert check_trees() == []
    # The original is untouched.
    leave.refresh_from_db()
    assert leave.manual_id != alice_manual.pk and f'data-image-id="{image.pk}"' in leave.body


def test_a_colleagues_private_section_cannot_be_copied(alice_manual, alice, bob_manual, bob_case):
    private = section_titled(bob_manual, "我和主管的私下约定")
    with pytest.raises(CopyRefused, match="私有"):
        copy_into_my_manual(source=private, target_manual=alice_manual, parent=None, user=alice)
    assert not Section.objects.filter(manual=alice_manual, title="我和主管的私下约定").exists()


def test_copying_into_a_manual_i_may_not_write_is_refused(alice_manual, bob, bob_case, lena):
    leave, _child, _image = bob_case
    with pytest.raises(CopyRefused, match="不能修改"):
        copy_into_my_manual(source=leave, target_manual=alice_manual, parent=None, user=bob)
    assert not Section.objects.filter(manual=alice_manual, title="请假流程").exists()


def test_the_copy_page_copies_to_the_chosen_place(client, alice_manual, alice, bob_case):
    leave, _child, _image = bob_case
    client.force_login(alice)
    section_page = client.get(
        reverse("manuals:section", args=[leave.manual_id, leave.pk])
    ).content.decode()
    assert "复制到我的手册" in section_page
    url = reverse("manuals:copy_section", args=[leave.manual_id, leave.pk])
    page = client.get(url).content.decode()
    assert "考勤制度" in page and "下面有些子章节你看不到" in page
    parent = section_titled(alice_manual, "考勤制度")
    response = client.post(
        url, {"destination": f"{alice_manual.pk}:{parent.pk}", "with_children": "1"}
    )
    copy = Section.objects.get(manual=alice_manual, title="请假流程")
    assert response["Location"] == reverse("manuals:section", args=[alice_manual.pk, copy.pk])
    assert copy.parent_id == parent.pk
    assert Section.objects.filter(manual=alice_manual, title="病假证明").exists()
    shown = client.get(response["Location"]).content.decode()
    assert "复制自 李波" in shown


def test_the_copy_page_refuses_private_and_foreign_sections(
    client, alice_manual, alice, carol, bob_manual, bob_case
):
    private = section_titled(bob_manual, "我和主管的私下约定")
    leave, _child, _image = bob_case
    client.force_login(alice)
    url = reverse("manuals:copy_section", args=[bob_manual.pk, private.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"destination": f"{alice_manual.pk}:"}).status_code == 404
    client.force_login(carol)
    carol_manual = build_manual(carol, "赵可的手册", [("管理制度", [])])
    url = reverse("manuals:copy_section", args=[bob_manual.pk, leave.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"destination": f"{carol_manual.pk}:"}).status_code == 404
    assert not Section.objects.filter(manual=carol_manual, title="请假流程").exists()


def test_the_copy_page_will_not_write_into_a_colleagues_manual(
    client, alice_manual, alice, bob, bob_manual, bob_case
):
    client.force_login(bob)
    leave, _child, _image = bob_case
    source = section_titled(alice_manual, "考勤制度")
    share(source)
    url = reverse("manuals:copy_section", args=[alice_manual.pk, source.pk])
    response = client.post(url, {"destination": f"{alice_manual.pk}:"}, follow=True)
    assert "请选择你自己手册里的位置" in response.content.decode()
    assert Section.objects.filter(manual=alice_manual, title="考勤制度").count() == 1


# --- handover -------------------------------------------------------------------------


def test_handing_over_a_copy_lands_under_the_same_chapter_with_a_note(
    alice_manual, alice, bob_manual, bob
):
    retro = section_titled(alice_manual, "2024-03 退款纠纷")
    add_section(manual=bob_manual, content=SectionContent(title="工作复盘"))
    activity = hand_over_subtree(
        section=retro, to_manual=bob_manual, mode=COPY, note="客户还在跟进", user=alice
    )
    copy = Section.objects.get(manual=bob_manual, title="2024-03 退款纠纷")
    assert copy.parent.title == "工作复盘"
    assert [c.title for c in copy.get_children()] == ["客户情绪", "我的处理"]
    assert activity.note == "客户还在跟进" and activity.section_count == 3
    assert Section.objects.filter(manual=alice_manual, title="2024-03 退款纠纷").live().exists()
    for user in (alice, bob):
        assert Activity.objects.visible_to(user).filter(pk=activity.pk).exists()
    assert check_trees() == []


def test_moving_a_subtree_keeps_its_history_and_puts_the_original_in_the_trash(
    alice_manual, alice, bob_manual, bob
):
    rule = section_titled(alice_manual, "考勤制度")
    save_section_content(
        section=rule, expected_version=rule.version,
        content=SectionContent(title="考勤制度", body="<p>第二版</p>"), user=alice,
    )  # fmt: skip
    hand_over_subtree(section=rule, to_manual=bob_manual, mode=MOVE, user=alice)
    moved = Section.objects.get(manual=bob_manual, title="考勤制度")
    assert moved.parent.title == "管理制度"
    assert moved.version == 2
    assert list(moved.revisions.values_list("version", flat=True)) == [2, 1]
    original = Section.objects.get(pk=rule.pk)
    assert original.trashed_root  # nothing deleted: restorable from alice's trash
    assert check_trees() == []


def test_a_section_received_by_a_move_is_labelled_handed_over_not_copied(
    alice_manual, alice, bob_manual
):
    rule = section_titled(alice_manual, "考勤制度")
    hand_over_subtree(section=rule, to_manual=bob_manual, mode=MOVE, user=alice)
    moved = Section.objects.get(manual=bob_manual, title="考勤制度")
    assert moved.origin_note.startswith("移交自 ") and "复制自" not in moved.origin_note


def test_the_lead_sees_every_handover_of_the_team_and_others_do_not(
    alice_manual, alice, bob_manual, lena, carol
):
    activity = hand_over_subtree(
        section=section_titled(alice_manual, "质检标准"), to_manual=bob_manual, mode=COPY,
        user=alice,
    )  # fmt: skip
    assert Activity.objects.visible_to(lena).filter(pk=activity.pk).exists()
    assert not Activity.objects.visible_to(carol).filter(pk=activity.pk).exists()


def test_handover_into_a_manual_that_cannot_receive_is_refused(
    alice_manual, alice, bob_manual, lena, carol
):
    section = section_titled(alice_manual, "质检标准")
    carol_manual = build_manual(carol, "赵可的手册", [("管理制度", [])])
    with pytest.raises(HandoverRefused, match="本团队"):
        hand_over_subtree(section=section, to_manual=carol_manual, mode=COPY, user=alice)
    set_archived(manual=bob_manual, archived=True, user=lena)
    with pytest.raises(HandoverRefused, match="归档"):
        hand_over_subtree(section=section, to_manual=bob_manual, mode=COPY, user=alice)
    with pytest.raises(HandoverRefused, match="另一位同事"):
        hand_over_subtree(section=section, to_manual=alice_manual, mode=COPY, user=alice)
    assert Section.objects.filter(title="质检标准").count() == 1


def test_a_colleague_cannot_hand_over_my_sections(alice_manual, bob, bob_manual):
    with pytest.raises(HandoverRefused, match="主人或团队主管"):
        hand_over_subtree(
            section=section_titled(alice_manual, "质检标准"), to_manual=bob_manual, mode=MOVE,
            user=bob,
        )  # fmt: skip
    assert section_titled(alice_manual, "质检标准").trashed_at is None


def test_a_leaving_agents_manual_goes_whole_to_the_successor(alice_manual, alice, bob, lena):
    count = alice_manual.live_sections().count()
    images_before = Image.objects.filter(manual=alice_manual).count()
    activity = transfer_manual(manual=alice_manual, successor=bob, note="王丽调岗", user=lena)
    alice_manual.refresh_from_db()
    assert alice_manual.owner == bob
    assert alice_manual.live_sections().count() == count
    assert Image.objects.filter(manual=alice_manual).count() == images_before
    assert alice_manual.can_write(bob) and not alice_manual.can_write(alice)
    assert Activity.objects.visible_to(bob).filter(pk=activity.pk).exists()
    assert Activity.objects.visible_to(alice).filter(pk=activity.pk).exists()


def test_only_the_lead_transfers_or_archives(alice_manual, alice, bob, carol):
    with pytest.raises(HandoverRefused, match="主管"):
        transfer_manual(manual=alice_manual, successor=bob, user=alice)
    with pytest.raises(HandoverRefused, match="主管"):
        set_archived(manual=alice_manual, archived=True, user=bob)
    alice_manual.refresh_from_db()
    assert alice_manual.owner == alice and alice_manual.archived_at is None


def test_transfer_to_another_team_is_refused(alice_manual, lena, carol):
    with pytest.raises(HandoverRefused, match="本团队"):
        transfer_manual(manual=alice_manual, successor=carol, user=lena)


def test_an_archived_manual_is_read_only_and_nothing_is_lost(client, alice_manual, alice, lena):
    count = alice_manual.live_sections().count()
    set_archived(manual=alice_manual, archived=True, note="离职", user=lena)
    alice_manual.refresh_from_db()
    assert not alice_manual.can_write(alice)
    with pytest.raises(TreeError):
        add_section(manual=alice_manual, content=SectionContent(title="新的一章"), user=alice)
    assert alice_manual.live_sections().count() == count
    client.force_login(lena)
    assert client.get(reverse("manuals:manual", args=[alice_manual.pk])).status_code == 200
    set_archived(manual=alice_manual, archived=False, user=lena)
    alice_manual.refresh_from_db()
    assert alice_manual.can_write(alice)


# --- handover views -----------------------------------------------------------------------


def test_the_handover_page_hands_a_subtree_to_a_colleague(client, alice_manual, alice, bob_manual):
    client.force_login(alice)
    section = section_titled(alice_manual, "质检标准")
    page = client.get(
        reverse("manuals:handover", args=[alice_manual.pk]) + f"?section={section.pk}"
    ).content.decode()
    assert "李波" in page and "整本转交" not in page  # agents do not see the lead's tools
    response = client.post(
        reverse("manuals:hand_over", args=[alice_manual.pk]),
        {"section": section.pk, "to_manual": bob_manual.pk, "mode": "copy", "note": "请查收"},
        follow=True,
    )
    log = response.content.decode()
    assert "质检标准" in log and "请查收" in log
    assert Section.objects.filter(manual=bob_manual, title="质检标准").exists()


def test_the_lead_transfers_and_archives_from_the_handover_page(client, alice_manual, bob, lena):
    client.force_login(lena)
    page = client.get(reverse("manuals:handover", args=[alice_manual.pk])).content.decode()
    assert "整本转交" in page and "归档" in page
    client.post(reverse("manuals:archive_manual", args=[alice_manual.pk]), {"archived": "1"})
    alice_manual.refresh_from_db()
    assert alice_manual.archived_at is not None
    client.post(
        reverse("manuals:transfer_manual", args=[alice_manual.pk]),
        {"successor": bob.pk, "note": "接手"},
    )
    alice_manual.refresh_from_db()
    assert alice_manual.owner == bob and alice_manual.archived_at is not None
    log = client.get(reverse("manuals:activity")).content.decode()
    assert "整本转交" in log and "接手" in log


def test_transferring_an_archived_manual_keeps_it_archived(alice_manual, alice, bob, lena):
    set_archived(manual=alice_manual, archived=True, note="离职", user=lena)
    count = alice_manual.live_sections().count()
    transfer_manual(manual=alice_manual, successor=bob, note="留作参考", user=lena)
    alice_manual.refresh_from_db()
    assert alice_manual.owner == bob and alice_manual.archived_at is not None
    assert not alice_manual.can_write(bob)  # read-only for the new owner too
    with pytest.raises(TreeError):
        add_section(manual=alice_manual, content=SectionContent(title="新的一章"), user=bob)
    assert alice_manual.live_sections().count() == count
    kinds = list(Activity.objects.filter(from_manual=alice_manual).values_list("kind", flat=True))
    assert sorted(kinds) == ["archive", "transfer"]  # no unannounced reopening


def test_the_lead_can_reopen_an_archived_manual_while_transferring_it(
    client, alice_manual, alice, bob, lena
):
    set_archived(manual=alice_manual, archived=True, user=lena)
    client.force_login(lena)
    page = client.get(reverse("manuals:handover", args=[alice_manual.pk])).content.decode()
    assert 'name="reopen"' in page and "转交后仍然归档" in page
    kept = client.post(
        reverse("manuals:transfer_manual", args=[alice_manual.pk]),
        {"successor": bob.pk, "note": ""},
        follow=True,
    )
    assert "仍然归档（只读）" in kept.content.decode()
    reopened = client.post(
        reverse("manuals:transfer_manual", args=[alice_manual.pk]),
        {"successor": alice.pk, "note": "回来了", "reopen": "1"},
        follow=True,
    )
    alice_manual.refresh_from_db()
    assert alice_manual.owner == alice and alice_manual.archived_at is None
    assert alice_manual.can_write(alice)
    assert "仍然归档" not in reopened.content.decode()
    unarchive = Activity.objects.get(from_manual=alice_manual, kind="unarchive")
    assert unarchive.actor == lena and unarchive.from_user == alice


def test_the_reopen_choice_is_only_offered_for_an_archived_manual(client, alice_manual, lena):
    client.force_login(lena)
    page = client.get(reverse("manuals:handover", args=[alice_manual.pk])).content.decode()
    assert 'name="reopen"' not in page


@pytest.mark.parametrize(
    "name,method",
    [
        ("handover", "get"),
        ("hand_over", "post"),
        ("transfer_manual", "post"),
        ("archive_manual", "post"),
    ],
)
def test_handover_views_are_not_found_for_colleagues_and_other_teams(
    client, alice_manual, bob, bob_manual, carol, name, method
):
    url = reverse(f"manuals:{name}", args=[alice_manual.pk])
    section = section_titled(alice_manual, "质检标准")
    data = {
        "section": section.pk, "to_manual": bob_manual.pk, "mode": "move",
        "successor": bob.pk, "archived": "1",
    }  # fmt: skip
    for user in (bob, carol):
        client.force_login(user)
        response = client.get(url) if method == "get" else client.post(url, data)
        assert response.status_code == 404, (name, user)
    alice_manual.refresh_from_db()
    assert alice_manual.owner.username == "alice" and alice_manual.archived_at is None
    assert section_titled(alice_manual, "质检标准").trashed_at is None


def test_an_agent_cannot_transfer_or_archive_her_own_manual(client, alice, alice_manual, bob):
    client.force_login(alice)
    client.post(reverse("manuals:transfer_manual", args=[alice_manual.pk]), {"successor": bob.pk})
    client.post(reverse("manuals:archive_manual", args=[alice_manual.pk]), {"archived": "1"})
    alice_manual.refresh_from_db()
    assert alice_manual.owner == alice and alice_manual.archived_at is None


def test_the_activity_log_shows_only_what_concerns_me(
    client, alice_manual, alice, bob_manual, carol
):
    hand_over_subtree(
        section=section_titled(alice_manual, "质检标准"), to_manual=bob_manual, mode=COPY,
        note="秘密说明", user=alice,
    )  # fmt: skip
    client.force_login(carol)
    assert "秘密说明" not in client.get(reverse("manuals:activity")).content.decode()
    client.force_login(alice)
    assert "秘密说明" in client.get(reverse("manuals:activity")).content.decode()
