"""Index writes, big changes and rebuilds go through the task worker (queue "search")."""

import time

import pytest
from django.core.management import call_command

from manuals.models import Section
from manuals.signals import sections_changed
from search.index import check_index, index_exists, rebuild_requested
from search.results import search_sections
from tests.conftest import section_titled

# The worker closes its database connection after each task, as in production: the
# test data must be committed, not held in a test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def run_worker():
    call_command("db_worker", "--batch", "--queue-name", "search", "--no-startup-delay",
                 "--no-reload", verbosity=0)  # fmt: skip


def test_a_whole_manual_change_is_indexed_by_the_worker(
    alice, alice_manual, fresh_index, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("search.indexing.INLINE_LIMIT", 3)
    Section.objects.filter(manual=alice_manual).update(body="<p>批量导入的新内容</p>")
    with django_capture_on_commit_callbacks(execute=True):
        sections_changed.send(sender=Section, manual_id=alice_manual.pk, section_ids=None)
    assert search_sections(user=alice, query="批量导入").total == 0  # not inside the request
    run_worker()
    assert search_sections(user=alice, query="批量导入").total == 9
    assert check_index().ok


def test_first_edit_without_an_index_asks_for_a_rebuild(
    alice, alice_manual, django_capture_on_commit_callbacks
):
    from manuals.tree import SectionContent, save_section_content

    assert not index_exists()
    section = section_titled(alice_manual, "考勤制度")
    with django_capture_on_commit_callbacks(execute=True):
        content = SectionContent(title="考勤制度", body="<p>打卡</p>")
        save_section_content(section=section, expected_version=section.version, content=content)
    assert rebuild_requested()
    run_worker()
    assert not rebuild_requested()
    assert [h.title for h in search_sections(user=alice, query="打卡").hits] == ["考勤制度"]
    assert check_index().ok


def test_edits_are_queued_in_the_request_and_one_worker_task_indexes_them_all(
    alice, alice_manual, fresh_index, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from manuals.tree import SectionContent, save_section_content

    before = DBTaskResult.objects.filter(queue_name="search").count()
    for title in ("考勤制度", "质检标准", "项目资料"):
        section = section_titled(alice_manual, title)
        with django_capture_on_commit_callbacks(execute=True):
            save_section_content(
                section=section, expected_version=section.version,
                content=SectionContent(title=title, body=f"<p>{title}排队中的修改</p>"),
            )  # fmt: skip
    # The requests wrote nothing to the index: they queued the ids and one task.
    assert search_sections(user=alice, query="排队中的修改").total == 0
    assert DBTaskResult.objects.filter(queue_name="search").count() == before + 1
    run_worker()
    assert search_sections(user=alice, query="排队中的修改").total == 3
    assert check_index().ok


def test_the_worker_merges_the_small_segments_edits_leave(
    alice, alice_manual, fresh_index, django_capture_on_commit_callbacks
):
    from manuals.tree import SectionContent, save_section_content
    from search.index import MERGE_AT, open_index
    from search.whoosh_store import segment_sizes

    def segments() -> int:
        return len(segment_sizes(open_index()))

    after_rebuild = segments()
    section = section_titled(alice_manual, "考勤制度")
    for edit in range(MERGE_AT + 1):
        section.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            save_section_content(
                section=section, expected_version=section.version,
                content=SectionContent(title=section.title, body=f"<p>第{edit}次修改</p>"),
            )  # fmt: skip
        run_worker()  # each edit in a small segment of its own, until they pile up
        assert search_sections(user=alice, query=f"第{edit}次修改").total == 1
    assert segments() < after_rebuild + MERGE_AT + 1
    assert search_sections(user=alice, query=f"第{MERGE_AT}次修改").total == 1
    assert search_sections(user=alice, query="第0次修改").total == 0
    assert check_index().ok


def test_an_edit_made_while_a_merge_holds_the_writer_is_indexed_by_the_worker(
    alice, alice_manual, fresh_index, django_capture_on_commit_callbacks
):
    from manuals.tree import SectionContent, save_section_content
    from search.index import writer_lock

    section = section_titled(alice_manual, "考勤制度")
    with writer_lock():  # the worker is merging or rebuilding
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            save_section_content(
                section=section, expected_version=section.version,
                content=SectionContent(title=section.title, body="<p>锁住时写下的修改</p>"),
            )  # fmt: skip
        assert time.monotonic() - started < 1.0  # the request never waits for the lock
    assert search_sections(user=alice, query="锁住时写下").total == 0
    run_worker()
    assert search_sections(user=alice, query="锁住时写下").total == 1
