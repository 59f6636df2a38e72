import re

import pytest
from django.urls import reverse

from manuals.models import Revision, Section
from tests.conftest import section_titled


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def url(name, manual, section=None, **extra):
    kwargs = {"manual_id": manual.pk}
    if section is not None:
        kwargs["section_id"] = section.pk
    return reverse(f"manuals:{name}", kwargs=kwargs | extra)


def test_the_manual_page_shows_the_whole_outline_in_order(as_alice, alice_manual):
    page = as_alice.get(url("manual", alice_manual)).content.decode()
    positions = [
        page.index(t) for t in ["管理制度", "考勤制度", "工作复盘", "客户情绪", "学习工具"]
    ]
    assert positions == sorted(positions)


def test_a_section_page_has_breadcrumbs_and_highlights_itself(as_alice, alice_manual):
    section = section_titled(alice_manual, "客户情绪")
    page = as_alice.get(url("section", alice_manual, section)).content.decode()
    crumbs = page.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert "工作复盘" in crumbs and "2024-03 退款纠纷" in crumbs
    assert re.search(rf'<li class="[^"]*\bcurrent\b[^"]*"[^>]*data-id="{section.pk}"', page)


def test_editing_saves_a_sanitised_body_and_a_revision(as_alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    response = as_alice.post(
        url("edit_section", alice_manual, section),
        {
            "title": "考勤制度（2025版）",
            "kind": "rule",
            "visibility": "shared",
            "body": '<p onclick="steal()">迟到三次扣绩效<script>alert(1)</script></p>'
            '<a href="javascript:alert(1)">x</a><iframe src="https://evil"></iframe>',
            "version": section.version,
        },
    )
    assert response.status_code == 302
    section.refresh_from_db()
    assert section.title == "考勤制度（2025版）" and section.version == 2
    assert "迟到三次扣绩效" in section.body
    for bad in ("script", "onclick", "javascript:", "iframe"):
        assert bad not in section.body
    assert Revision.objects.filter(section=section).count() == 2


def test_a_stale_save_is_refused_and_shows_both_versions(client, alice, alice_manual):
    client.force_login(alice)
    section = section_titled(alice_manual, "考勤制度")
    form = {"kind": "rule", "visibility": "private", "version": section.version}
    client.post(url("edit_section", alice_manual, section),
                form | {"title": "考勤制度", "body": "<p>第一个标签页的修改</p>"})  # fmt: skip
    response = client.post(
        url("edit_section", alice_manual, section),
        form | {"title": "考勤制度", "body": "<p>第二个标签页的修改</p>"},
    )
    assert response.status_code == 409
    page = response.content.decode()
    # Both versions side by side, the difference marked character by character...
    assert "第<del>一</del>个标签页的修改" in page and "第<ins>二</ins>个标签页的修改" in page
    # ...and the editor still holds what the user typed.
    assert "&lt;p&gt;第二个标签页的修改&lt;/p&gt;</textarea>" in page
    section.refresh_from_db()
    assert "第一个标签页的修改" in section.body  # nothing silently overwritten
    # Saving again from the conflict page (it carries the new version) is deliberate.
    response = client.post(
        url("edit_section", alice_manual, section),
        form | {"title": "考勤制度", "body": "<p>第二个标签页的修改</p>", "version": 2},
    )
    assert response.status_code == 302
    section.refresh_from_db()
    assert "第二个标签页的修改" in section.body and section.version == 3


def test_an_overlong_title_gets_a_clear_message(as_alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    response = as_alice.post(
        url("edit_section", alice_manual, section),
        {"title": "长" * 250, "kind": "rule", "visibility": "private", "body": "",
         "version": section.version},
    )  # fmt: skip
    assert response.status_code == 200
    assert "标题太长" in response.content.decode()


def test_adding_a_child_section(as_alice, alice_manual):
    parent = section_titled(alice_manual, "项目资料")
    response = as_alice.post(
        url("add_section", alice_manual),
        {"title": "双十一大促", "kind": "project", "visibility": "shared", "target": parent.pk,
         "position": "last-child"},
    )  # fmt: skip
    child = section_titled(alice_manual, "双十一大促")
    assert child.parent_id == parent.pk
    assert response.url == url("edit_section", alice_manual, child)


def test_drag_and_drop_move_answers_json(as_alice, alice_manual):
    chapter = section_titled(alice_manual, "学习工具")
    target = section_titled(alice_manual, "管理制度")
    response = as_alice.post(
        url("move_section", alice_manual, chapter),
        {"target": target.pk, "position": "left"},
        headers={"Accept": "application/json"},
    )
    assert response.json() == {"ok": True, "error": None}
    assert alice_manual.outline()[0].title == "学习工具"


def test_moving_under_its_own_child_answers_a_message(as_alice, alice_manual):
    chapter = section_titled(alice_manual, "工作复盘")
    response = as_alice.post(
        url("move_section", alice_manual, chapter),
        {"target": section_titled(alice_manual, "客户情绪").pk, "position": "last-child"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "子章节" in response.json()["error"]


def test_moving_into_another_manual_is_refused(as_alice, alice_manual, bob_manual):
    response = as_alice.post(
        url("move_section", alice_manual, section_titled(alice_manual, "项目资料")),
        {"target": section_titled(bob_manual, "管理制度").pk, "position": "last-child"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert section_titled(alice_manual, "项目资料").manual_id == alice_manual.pk


def test_trash_and_restore_through_the_pages(as_alice, alice_manual):
    case = section_titled(alice_manual, "2024-03 退款纠纷")
    as_alice.post(url("trash_section", alice_manual, case))
    assert "客户情绪" not in as_alice.get(url("manual", alice_manual)).content.decode()
    trash_page = as_alice.get(url("trash", alice_manual)).content.decode()
    assert "2024-03 退款纠纷" in trash_page
    as_alice.post(url("restore_section", alice_manual, case))
    assert "客户情绪" in as_alice.get(url("manual", alice_manual)).content.decode()


def test_history_diff_and_restore(as_alice, alice_manual):
    section = section_titled(alice_manual, "质检标准")
    for version, text in [(1, "首问负责制"), (2, "首问负责制，48小时回访")]:
        as_alice.post(
            url("edit_section", alice_manual, section),
            {"title": "质检标准", "kind": "rule", "visibility": "private",
             "body": f"<p>{text}</p>", "version": version},
        )  # fmt: skip
    page = as_alice.get(url("history", alice_manual, section) + "?a=2&b=3").content.decode()
    assert "<ins>，48小时回访</ins>" in page
    as_alice.post(url("restore_revision", alice_manual, section, version=2),
                  {"expected_version": 3})  # fmt: skip
    section.refresh_from_db()
    assert section.body == "<p>首问负责制</p>" and section.version == 4


# Permissions: every view, the wrong user gets 404.
READ_VIEWS = ["section", "history"]
WRITE_VIEWS = ["edit_section", "trash_section", "restore_section", "purge_section"]


@pytest.mark.parametrize("name", READ_VIEWS + WRITE_VIEWS)
def test_another_team_sees_nothing(client, carol, alice_manual, name):
    client.force_login(carol)
    section = section_titled(alice_manual, "考勤制度")
    method = client.get if name in READ_VIEWS + ["edit_section"] else client.post
    assert method(url(name, alice_manual, section)).status_code == 404
    assert client.get(url("manual", alice_manual)).status_code == 404


@pytest.mark.parametrize("name", ["manual", "trash"])
def test_manual_pages_are_404_for_another_team(client, carol, alice_manual, name):
    client.force_login(carol)
    assert client.get(url(name, alice_manual)).status_code == 404


def test_a_colleague_reads_shared_sections_only(client, bob, alice_manual):
    shared = section_titled(alice_manual, "考勤制度")
    Section.objects.filter(pk=shared.pk).update(visibility="shared")
    private = section_titled(alice_manual, "质检标准")
    client.force_login(bob)
    assert client.get(url("section", alice_manual, shared)).status_code == 200
    assert client.get(url("section", alice_manual, private)).status_code == 404
    page = client.get(url("manual", alice_manual)).content.decode()
    assert "考勤制度" in page and "质检标准" not in page


@pytest.mark.parametrize("name", ["edit_section", "move_section", "shift_section",
                                  "trash_section", "history_restore"])  # fmt: skip
def test_a_colleague_cannot_change_my_manual(client, bob, alice_manual, name):
    section = section_titled(alice_manual, "考勤制度")
    Section.objects.filter(pk=section.pk).update(visibility="shared")
    client.force_login(bob)
    if name == "shift_section":
        target = url(name, alice_manual, section, direction="down")
    elif name == "history_restore":
        target = url("restore_revision", alice_manual, section, version=1)
    else:
        target = url(name, alice_manual, section)
    assert client.post(target, {"title": "x", "target": section.pk}).status_code == 404
    assert client.post(url("add_section", alice_manual), {"title": "x"}).status_code == 404


def test_the_lead_reads_what_is_shared_with_the_lead_but_cannot_edit(
    client, lena, bob, alice_manual
):
    for_lead = section_titled(alice_manual, "质检标准")
    Section.objects.filter(pk=for_lead.pk).update(visibility=Section.Visibility.LEAD)
    private = section_titled(alice_manual, "考勤制度")
    client.force_login(lena)
    assert client.get(url("section", alice_manual, for_lead)).status_code == 200
    assert client.get(url("edit_section", alice_manual, for_lead)).status_code == 404
    assert client.get(url("section", alice_manual, private)).status_code == 404
    client.force_login(bob)
    assert client.get(url("section", alice_manual, for_lead)).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client, alice_manual):
    response = client.get(url("manual", alice_manual))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
