"""The continuous document: chunks by outline position, readable sections only, and the
in-place save (JSON, version checked)."""

import re

import pytest
from django.urls import reverse

from manuals import document, outline
from manuals.models import Section
from manuals.tree import SectionContent, add_section
from tests.conftest import section_titled

pytestmark = pytest.mark.django_db


def share(manual, *titles, visibility="shared"):
    Section.objects.filter(manual=manual, title__in=titles).update(visibility=visibility)


def chunk_titles(html: str) -> list[str]:
    return re.findall(r'class="doc-title[^"]*"[^>]*>([^<]*)<', html)


def test_the_manual_page_reads_every_section_in_tree_order_with_heading_levels(
    client, alice, alice_manual
):
    client.force_login(alice)
    html = client.get(reverse("manuals:manual", args=[alice_manual.pk])).content.decode()
    first = ["管理制度", "考勤制度", "质检标准", "工作复盘", "2024-03 退款纠纷"]
    assert chunk_titles(html)[:5] == first
    assert '<h2 class="doc-title editable" data-find-region>管理制度</h2>' in html
    assert '<h4 class="doc-title editable" data-find-region>客户情绪</h4>' in html
    assert "考勤制度的内容" in html


def test_a_long_manual_comes_in_chunks_and_the_fragment_gives_the_next(
    client, alice, alice_manual, monkeypatch
):
    monkeypatch.setattr(document, "CHUNK_SIZE", 3)
    client.force_login(alice)
    html = client.get(reverse("manuals:manual", args=[alice_manual.pk])).content.decode()
    assert chunk_titles(html) == ["管理制度", "考勤制度", "质检标准"]
    next_id = section_titled(alice_manual, "工作复盘").pk
    assert f'data-next="{next_id}"' in html
    url = reverse("manuals:document_chunk", args=[alice_manual.pk])
    fragment = client.get(url, {"from": next_id}).content.decode()
    assert chunk_titles(fragment) == ["工作复盘", "2024-03 退款纠纷", "客户情绪"]
    earlier = client.get(url, {"from": next_id, "before": "1"}).content.decode()
    assert chunk_titles(earlier) == ["管理制度", "考勤制度", "质检标准"]


def test_a_chapter_reads_as_one_document_with_next_and_previous(client, alice, alice_manual):
    client.force_login(alice)
    chapter = section_titled(alice_manual, "工作复盘")
    html = client.get(
        reverse("manuals:read_section", args=[alice_manual.pk, chapter.pk])
    ).content.decode()
    assert chunk_titles(html) == ["工作复盘", "2024-03 退款纠纷", "客户情绪", "我的处理"]
    assert "← 上一节: 质检标准" in html and "下一节: 2024-03 退款纠纷 →" in html


def test_a_teammate_never_sees_a_private_section_in_a_chunk(client, bob, alice_manual):
    share(alice_manual, "管理制度", "质检标准", "工作复盘")
    client.force_login(bob)
    html = client.get(reverse("manuals:manual", args=[alice_manual.pk])).content.decode()
    assert chunk_titles(html) == ["管理制度", "质检标准", "工作复盘"]
    assert "考勤制度" not in html
    url = reverse("manuals:document_chunk", args=[alice_manual.pk])
    hidden = section_titled(alice_manual, "考勤制度").pk
    assert client.get(url, {"from": hidden}).status_code == 404
    assert client.get(url, {"scope": hidden}).status_code == 404
    assert "考勤制度" not in client.get(url).content.decode()


def test_another_team_gets_no_chunk(client, carol, alice_manual):
    share(alice_manual, "管理制度")
    client.force_login(carol)
    url = reverse("manuals:document_chunk", args=[alice_manual.pk])
    assert client.get(url).status_code == 404


def save(client, manual, section, **data):
    url = reverse("manuals:save_section_inline", args=[manual.pk, section.pk])
    fields = {"title": section.title, "kind": section.kind, "visibility": section.visibility,
              "body": section.body, "version": section.version} | data  # fmt: skip
    return client.post(url, fields, HTTP_ACCEPT="application/json")


def test_saving_in_place_answers_json_and_a_stale_version_is_a_conflict(
    client, alice, alice_manual
):
    client.force_login(alice)
    section = section_titled(alice_manual, "考勤制度")
    response = save(client, alice_manual, section, body="<p>迟到三次扣分</p><script>x</script>")
    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] and answer["version"] == section.version + 1
    assert answer["body"] == "<p>迟到三次扣分</p>"
    stale = save(client, alice_manual, section, body="<p>我的写法</p>")  # the old version
    assert stale.status_code == 409
    conflict = stale.json()["conflict"]
    assert conflict["version"] == section.version + 1
    assert "迟到三次扣分" in conflict["body"]
    assert any("我的写法" in row["right"] for row in conflict["rows"])
    section.refresh_from_db()
    assert section.body == "<p>迟到三次扣分</p>"


def test_only_the_owner_saves_in_place(client, bob, alice_manual):
    share(alice_manual, "考勤制度")
    client.force_login(bob)
    section = section_titled(alice_manual, "考勤制度")
    assert save(client, alice_manual, section, body="<p>改</p>").status_code == 404


def test_adding_in_place_returns_the_new_section_rendered(client, alice, alice_manual):
    client.force_login(alice)
    rule = section_titled(alice_manual, "管理制度")
    Section.objects.filter(pk=rule.pk).update(kind="rule")
    response = client.post(
        reverse("manuals:add_section", args=[alice_manual.pk]),
        {"title": "新章节", "kind": "rule", "visibility": "private", "target": rule.pk,
         "position": "last-child", "depth": "2"},
        HTTP_ACCEPT="application/json",
    )  # fmt: skip
    answer = response.json()
    assert answer["ok"]
    added = Section.objects.get(pk=answer["id"])
    assert added.parent_id == rule.pk and added.kind == "rule"
    assert '<h3 class="doc-title editable" data-find-region>新章节</h3>' in answer["html"]


def test_a_child_added_on_a_rule_page_defaults_to_rule(client, alice, alice_manual):
    client.force_login(alice)
    rule = section_titled(alice_manual, "管理制度")
    Section.objects.filter(pk=rule.pk).update(kind="rule")
    html = client.get(reverse("manuals:section", args=[alice_manual.pk, rule.pk])).content.decode()
    assert '<option value="rule" selected>' in html


def test_a_chunk_costs_the_same_queries_whatever_the_manual_holds(
    client, alice, alice_manual, django_assert_max_num_queries
):
    for i in range(60):
        add_section(manual=alice_manual, target=None, content=SectionContent(title=f"第{i}节"))
    client.force_login(alice)
    url = reverse("manuals:document_chunk", args=[alice_manual.pk])
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


def outline_titles(html: str) -> list[str]:
    nav = html.split('id="outline"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'role="treeitem".*?<a [^>]*>([^<]*)</a>', nav)


def test_a_long_manuals_page_sends_the_chapters_and_the_path_not_the_whole_outline(
    client, alice, alice_manual, monkeypatch
):
    monkeypatch.setattr(outline, "OUTLINE_FULL_ROWS", 3)
    client.force_login(alice)
    html = client.get(reverse("manuals:manual", args=[alice_manual.pk])).content.decode()
    assert outline_titles(html) == ["管理制度", "工作复盘", "项目资料", "学习工具"]
    chapter = section_titled(alice_manual, "工作复盘")
    assert (
        f'data-id="{chapter.pk}" data-level="1" aria-level="1" aria-expanded="false" '
        'data-lazy="1"' in html
    )
    # A section's own page opens the path down to it.
    deep = section_titled(alice_manual, "客户情绪")
    html = client.get(reverse("manuals:section", args=[alice_manual.pk, deep.pk])).content.decode()
    assert outline_titles(html) == [
        "管理制度", "工作复盘", "2024-03 退款纠纷", "客户情绪", "我的处理", "项目资料", "学习工具",
    ]  # fmt: skip


def test_the_branch_fragment_brings_the_rows_down_to_a_section(client, alice, bob, alice_manual):
    client.force_login(alice)
    deep = section_titled(alice_manual, "客户情绪")
    url = reverse("manuals:outline_branch", args=[alice_manual.pk, deep.pk])
    html = client.get(url).content.decode()
    groups = re.findall(r'<ul role="group" data-parent="(\d+)">', html)
    path = ["工作复盘", "2024-03 退款纠纷"]  # 客户情绪 has no rows below it
    assert groups == [str(section_titled(alice_manual, t).pk) for t in path]
    assert re.findall(r"<a [^>]*>([^<]*)</a>", html) == ["2024-03 退款纠纷", "客户情绪", "我的处理"]
    # A teammate gets only what is shared with the team.
    share(alice_manual, "工作复盘")
    client.force_login(bob)
    assert client.get(url).status_code == 404
    chapter = section_titled(alice_manual, "工作复盘")
    bob_url = reverse("manuals:outline_branch", args=[alice_manual.pk, chapter.pk])
    assert client.get(bob_url).content.decode() == ""


def test_a_trashed_sections_address_offers_its_owner_to_restore_it(
    client, alice, bob, alice_manual
):
    from manuals.tree import trash_section

    chapter = section_titled(alice_manual, "工作复盘")
    share(alice_manual, "工作复盘", "2024-03 退款纠纷")
    deep = section_titled(alice_manual, "2024-03 退款纠纷")
    trash_section(section=chapter, user=alice)
    url = reverse("manuals:section", args=[alice_manual.pk, deep.pk])
    client.force_login(alice)
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 404 and "这一节在回收站里 — 恢复？" in html
    assert reverse("manuals:restore_section", args=[alice_manual.pk, chapter.pk]) in html
    client.force_login(bob)
    response = client.get(url)
    assert response.status_code == 404 and "回收站" not in response.content.decode()
