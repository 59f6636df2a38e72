"""The background job: a fresh process per edition, with progress, time and memory limits."""

import logging
import os

import pytest
from django_tasks_db.models import DBTaskResult

from manuals.tree import SectionContent, add_section, create_manual
from printing import jobs
from printing.booklet import BookletOptions, PrintError
from printing.jobs import request_edition, run_edition
from printing.models import Edition
from tests.printing.conftest import page_texts


def test_a_queued_edition_is_rendered_in_a_child_process_and_archived(
    illustrated_manual, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        edition, created = request_edition(
            manual=illustrated_manual, user=alice, options=BookletOptions(theme="ink-wash")
        )
    assert created and edition.status == Edition.Status.QUEUED
    task = DBTaskResult.objects.get()
    assert task.queue_name == "printing" and task.args_kwargs["args"] == [edition.pk]

    assert run_edition(edition_id=edition.pk) == Edition.Status.DONE
    edition.refresh_from_db()
    assert edition.progress == 100 and edition.finished_at and edition.started_at
    assert edition.page_count > 8 and edition.size_bytes == edition.file.size
    assert "考勤制度" in "".join(page_texts(edition.file.path))
    # A second run of the same job (a retried task) does nothing.
    assert run_edition(edition_id=edition.pk) == "skipped"


def test_a_second_request_while_one_is_pending_returns_the_same_edition(
    illustrated_manual, alice, lena, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first, created = request_edition(
            manual=illustrated_manual, user=alice, options=BookletOptions()
        )
        again, created_again = request_edition(
            manual=illustrated_manual, user=alice, options=BookletOptions()
        )
        by_lead, created_by_lead = request_edition(
            manual=illustrated_manual, user=lena, options=BookletOptions()
        )
    assert created and not created_again and not created_by_lead
    assert first.pk == again.pk == by_lead.pk
    assert DBTaskResult.objects.count() == 1
    # One active edition per manual: a different choice waits until this one has finished.
    with pytest.raises(PrintError, match="正在排队或生成"):
        request_edition(manual=illustrated_manual, user=alice, options=BookletOptions(paper="A4"))
    assert Edition.objects.count() == 1
    Edition.objects.filter(pk=first.pk).update(status=Edition.Status.DONE)
    other, created = request_edition(
        manual=illustrated_manual, user=alice, options=BookletOptions(paper="A4")
    )
    assert created and Edition.objects.count() == 2


def test_a_teammate_can_only_print_the_shared_sections(illustrated_manual, bob):
    edition, _ = request_edition(manual=illustrated_manual, user=bob, options=BookletOptions())
    assert edition.scope == "shared"


def test_nothing_to_print_is_refused_before_queueing(alice):
    manual = create_manual(owner=alice, title="空手册")
    with pytest.raises(PrintError):
        request_edition(manual=manual, user=alice, options=BookletOptions())
    assert not Edition.objects.exists()


def test_a_job_over_its_time_limit_is_stopped_and_says_why(illustrated_manual, alice):
    edition, _ = request_edition(manual=illustrated_manual, user=alice, options=BookletOptions())
    assert run_edition(edition_id=edition.pk, time_limit=1) == Edition.Status.FAILED
    edition.refresh_from_db()
    assert "时间限制" in edition.failure_reason and not edition.file


def test_a_job_over_its_memory_limit_is_stopped_and_says_why(
    illustrated_manual, alice, monkeypatch
):
    monkeypatch.setattr(jobs, "MEMORY_LIMIT_MB", 150)
    edition, _ = request_edition(manual=illustrated_manual, user=alice, options=BookletOptions())
    assert run_edition(edition_id=edition.pk) == Edition.Status.FAILED
    edition.refresh_from_db()
    assert "内存限制（150 MB）" in edition.failure_reason


def test_a_manual_emptied_after_queueing_fails_with_the_reason(alice):
    from manuals.tree import SectionContent, add_section, trash_section

    manual = create_manual(owner=alice, title="手册")
    section = add_section(manual=manual, content=SectionContent(title="唯一一节"))
    edition, _ = request_edition(manual=manual, user=alice, options=BookletOptions())
    trash_section(section=section, user=alice)
    assert run_edition(edition_id=edition.pk) == Edition.Status.FAILED
    edition.refresh_from_db()
    assert "没有可打印的章节" in edition.failure_reason


@pytest.fixture
def render_prelude(tmp_path, monkeypatch):
    """Python code that each render process runs first (as its sitecustomize module)."""

    def install(code: str) -> None:
        site = tmp_path / "site"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(code)
        paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))

    return install


@pytest.fixture
def one_page_manual(alice):
    manual = create_manual(owner=alice, title="一页手册")
    add_section(manual=manual, content=SectionContent(title="开场白", body="<p>您好</p>"))
    return manual


def test_stray_brace_lines_on_the_render_process_output_do_not_stop_the_job(
    one_page_manual, alice, render_prelude, caplog
):
    # Anything in the render process may print; a line that only looks like a report (or
    # two reports run together) once crashed the job and left the edition "rendering".
    render_prelude(
        'print("{ not a report", flush=True)\n'
        'print(\'{"progress": 7, "note": "chapters"}{"progress"\', flush=True)\n'
    )
    edition, _ = request_edition(manual=one_page_manual, user=alice, options=BookletOptions())
    with caplog.at_level(logging.WARNING, logger="printing.jobs"):
        assert run_edition(edition_id=edition.pk) == Edition.Status.DONE
    edition.refresh_from_db()
    assert edition.page_count >= 2 and edition.file.size == edition.size_bytes
    assert "{ not a report" in caplog.text


def test_a_render_process_that_dies_after_a_stray_line_fails_with_that_line(
    one_page_manual, alice, render_prelude
):
    render_prelude('import os\nprint("{ half a report", flush=True)\nos._exit(3)\n')
    edition, _ = request_edition(manual=one_page_manual, user=alice, options=BookletOptions())
    assert run_edition(edition_id=edition.pk) == Edition.Status.FAILED
    edition.refresh_from_db()
    assert "{ half a report" in edition.failure_reason and not edition.file


def test_the_memory_watch_survives_processes_exiting_while_it_walks_the_tree():
    """Chapter workers come and go while the job watches its render process's memory; a
    worker exiting mid-walk once crashed the print job (/proc/<pid>/task vanished)."""
    import os
    import subprocess
    import threading
    import time

    done = threading.Event()
    spawned = [0, 0]

    def churn(slot):
        while not done.is_set():
            subprocess.Popen(["/bin/true"]).wait()
            spawned[slot] += 1

    churners = [threading.Thread(target=churn, args=(slot,)) for slot in range(2)]
    for thread in churners:
        thread.start()
    walks = 0
    deadline = time.monotonic() + 120
    try:
        # Counted, not timed: a loaded machine walks and spawns slower, never less.
        while walks < 100 or sum(spawned) < 100:
            assert jobs.tree_memory_mb(os.getpid()) > 0
            walks += 1
            assert time.monotonic() < deadline, (walks, spawned)
    finally:
        done.set()
        for thread in churners:
            thread.join()


def test_one_agent_cannot_queue_editions_without_end(alice, bob):
    # Each manual has at most one edition on the way; one person at most a few.
    manuals = []
    for n in range(jobs.MAX_ACTIVE_PER_USER + 1):
        manual = create_manual(owner=alice, title=f"手册{n}")
        add_section(manual=manual, content=SectionContent(title="开场白", body="<p>您好</p>"))
        manuals.append(manual)
    for manual in manuals[:-1]:
        assert request_edition(manual=manual, user=alice, options=BookletOptions())[1]
    with pytest.raises(PrintError, match="排队"):
        request_edition(manual=manuals[-1], user=alice, options=BookletOptions())
    # The team's printing is not blocked for anyone else.
    assert request_edition(manual=manuals[-1], user=None, options=BookletOptions())[1]


@pytest.fixture
def worker_spare():
    """As in a print worker: a render process is kept ready for the next edition."""
    yield jobs.warm_render_process
    jobs._Spare.wanted = False
    if jobs._Spare.child is not None:
        jobs._stop(jobs._Spare.child)
        jobs._Spare.child = None


def test_a_worker_prints_with_the_render_process_it_started_ahead(
    one_page_manual, alice, worker_spare
):
    ready = worker_spare()
    assert jobs.wait_until_warm(120)  # Django set up, WeasyPrint loaded, its fonts read
    edition, _ = request_edition(manual=one_page_manual, user=alice, options=BookletOptions())
    assert run_edition(edition_id=edition.pk) == Edition.Status.DONE
    assert ready.wait(timeout=10) == 0  # it printed this edition, and only this one
    edition.refresh_from_db()
    assert "您好" in "".join(page_texts(edition.file.path))
    following = jobs._Spare.child  # the next edition's is on its way
    assert following is not None and following is not ready and following.poll() is None
    assert jobs.wait_until_warm(120)
    second, _ = request_edition(
        manual=one_page_manual, user=alice, options=BookletOptions(theme="magazine")
    )
    assert run_edition(edition_id=second.pk) == Edition.Status.DONE
    assert following.wait(timeout=10) == 0


def test_a_render_process_started_before_the_environment_changed_is_not_used(
    one_page_manual, alice, worker_spare, render_prelude, caplog
):
    stale = worker_spare()
    render_prelude('print("{ set up after the spare started", flush=True)\n')
    edition, _ = request_edition(manual=one_page_manual, user=alice, options=BookletOptions())
    with caplog.at_level(logging.WARNING, logger="printing.jobs"):
        assert run_edition(edition_id=edition.pk) == Edition.Status.DONE
    assert stale.poll() is not None  # stopped: its settings may be out of date
    assert "{ set up after the spare started" in caplog.text  # a process of the new one


@pytest.mark.django_db
def test_a_big_edition_is_set_by_its_render_process_with_a_worker_beside_it(
    alice, settings, worker_spare, caplog
):
    # Over PARALLEL_THRESHOLD_CHARS: the render process (as a print worker starts it, ahead
    # of the edition) sets chapters in a thread of its own while one chapter worker sets
    # the others; the worker is forked from it, as warm as it is (no other thread runs).
    from manuals.bulk import NewSection, insert_sections
    from printing.booklet import assemble_booklet
    from printing.render import PARALLEL_THRESHOLD_CHARS
    from tests.printing.conftest import toc_numbers

    settings.LANBITOU_PRINT_WORKERS = 2
    manual = create_manual(owner=alice, title="大手册")
    body = "<p>" + "客户来电询问退款进度，先核对订单号再查询物流。" * 40 + "</p>"
    sections = []
    for chapter in range(4):
        sections.append(NewSection(1, f"第{chapter}部分"))
        sections += [NewSection(2, f"案例{chapter}-{n}", body) for n in range(45)]
    insert_sections(manual=manual, parent=None, sections=sections, user=alice)
    booklet = assemble_booklet(manual=manual, options=BookletOptions())
    assert sum(len(c.html) for c in booklet.chapters) > PARALLEL_THRESHOLD_CHARS
    worker_spare()
    assert jobs.wait_until_warm(120)
    edition, _created = request_edition(manual=manual, user=alice, options=BookletOptions())
    with caplog.at_level(logging.INFO, logger="printing.jobs"):
        assert run_edition(edition_id=edition.pk) == Edition.Status.DONE
    assert f"Edition {edition.pk} printed:" in caplog.text
    assert "4 chapters set (0 from the cache), chapter workers: fork;" in caplog.text
    edition.refresh_from_db()
    assert edition.chapters_rendered == 4
    texts = page_texts(edition.file.path)
    assert len(texts) == edition.page_count > 100
    listed = dict(toc_numbers(texts[1:12]))
    everything = "".join(texts)
    for chapter in range(4):
        opener = listed[f"第{chapter}部分"]
        assert f"第{chapter}部分" in texts[opener - 1]
        assert all(f"案例{chapter}-{n}" in everything for n in range(45))
