"""Changes are in the index as soon as their transaction commits."""

import pytest

from manuals.models import Section
from manuals.tree import (
    SectionContent,
    add_section,
    move_section,
    purge_section,
    restore_section,
    save_section_content,
    trash_section,
)
from search.index import check_index, index_sections, writer_lock
from search.results import search_sections
from tests.conftest import section_titled


def titles(user, query):
    return [h.title for h in search_sections(user=user, query=query, per_page=100).hits]


def test_an_edit_is_searchable_after_commit(alice, alice_manual, fresh_index, committed):
    section = section_titled(alice_manual, "质检标准")
    with committed():
        save_section_content(
            section=section,
            expected_version=section.version,
            content=SectionContent(title="质检标准", body="<p>新规：工单TB20240311必须回访</p>"),
        )
    assert titles(alice, "TB20240311") == ["质检标准"]
    assert titles(alice, "质检标准的内容") == []  # the old text is gone
    assert check_index().ok


def test_new_sections_trash_restore_and_purge(alice, alice_manual, fresh_index, committed):
    with committed():
        section = add_section(manual=alice_manual, content=SectionContent(title="临时笔记"))
    assert titles(alice, "临时笔记") == ["临时笔记"]
    with committed():
        trash_section(section=section)
    assert titles(alice, "临时笔记") == []
    with committed():
        restore_section(section=section)
    assert titles(alice, "临时笔记") == ["临时笔记"]
    with committed():
        section = trash_section(section=section)
        purge_section(section=section)
    assert titles(alice, "临时笔记") == []
    assert check_index().ok


def test_moving_a_chapter_updates_paths(alice, alice_manual, fresh_index, committed):
    retro = section_titled(alice_manual, "2024-03 退款纠纷")
    with committed():
        move_section(section=retro, target=section_titled(alice_manual, "项目资料"),
                     position="last-child")  # fmt: skip
    hit = search_sections(user=alice, query="客户情绪").hits[0]
    assert hit.path == ["项目资料", "2024-03 退款纠纷"]


def test_sharing_a_section_makes_it_visible_to_teammates(
    alice, bob, alice_manual, fresh_index, committed
):
    section = section_titled(alice_manual, "考勤制度")
    assert titles(bob, "考勤制度") == []
    with committed():
        save_section_content(
            section=section,
            expected_version=section.version,
            content=SectionContent(title="考勤制度", visibility=Section.Visibility.SHARED),
        )
    assert titles(bob, "考勤制度") == ["考勤制度"]


def test_a_busy_writer_queues_the_change_instead_of_blocking(alice, alice_manual, fresh_index):
    section = section_titled(alice_manual, "项目资料")
    Section.objects.filter(pk=section.pk).update(title="项目资料（改）")
    with writer_lock():
        # Another writer (say a rebuild) holds the lock: we give up quickly and queue.
        assert index_sections(section_ids=[section.pk], wait=0.1) is False
    assert titles(alice, "项目资料（改）") == []
    index_sections(section_ids=[])  # the next writer picks the queued change up
    assert titles(alice, "项目资料（改）") == ["项目资料（改）"]


def test_a_failed_write_puts_queued_edits_back_for_the_next_writer(
    alice, alice_manual, fresh_index, monkeypatch
):
    from search import index

    section = section_titled(alice_manual, "项目资料")
    Section.objects.filter(pk=section.pk).update(title="项目资料（改）")
    index.queue_pending([section.pk])  # an edit that waited on a busy writer

    def broken(writer, ids):
        raise OSError("disk full")

    monkeypatch.setattr("search.index._apply", broken)
    with pytest.raises(OSError):
        index_sections(section_ids=[])
    monkeypatch.undo()
    assert index.has_pending()
    index_sections(section_ids=[])
    assert titles(alice, "项目资料（改）") == ["项目资料（改）"]
    assert check_index().ok


def test_an_empty_index_answers_every_query(alice, lena, client):
    from search.index import rebuild_index

    rebuild_index()  # no manuals yet: an index without segments
    assert search_sections(user=alice, query="客户").total == 0
    assert search_sections(user=lena, query="kind:rule").total == 0
    client.force_login(alice)
    assert client.get("/search/", {"q": "客户"}).status_code == 200
    assert client.get("/search/", {"kind": "rule"}).status_code == 200
