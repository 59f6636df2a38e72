"""Kill the print worker while an edition renders: nothing runs on, hangs or stays behind.

Before: the render process kept running past its limits with nobody watching its memory,
the edition stayed "rendering", re-printing handed back the dead edition, the task row
stayed RUNNING and a pickle of every section (private ones too) stayed in the temp folder.
"""

import os
import signal

import pytest
from django_tasks_db.models import DBTaskResult

from manuals.bulk import NewSection, insert_sections
from manuals.tree import create_manual
from printing.booklet import BookletOptions
from printing.cleanup import work_dir
from printing.jobs import request_edition
from printing.models import Edition
from tests.workers import alive, descendants, start_worker, stop, wait_for


def render_processes(worker_pid: int) -> set[int]:
    """The render process and its chapter workers (not the compilers ctypes may run)."""
    found = set()
    for pid in descendants(worker_pid):
        try:
            command = open(f"/proc/{pid}/cmdline").read()
        except OSError:
            continue
        if "render_booklet" in command or "multiprocessing" in command:
            found.add(pid)
    return found


def kill_worker(worker, render: set[int], *, message: str) -> None:
    """Kill ``worker`` outright; its ``render`` processes must die with it."""
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    wait_for(lambda: not any(alive(pid) for pid in render), timeout=10, message=message)


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def long_manual(alice):
    # Long enough that rendering takes many seconds and uses the chapter worker processes.
    manual = create_manual(owner=alice, title="很长的手册")
    body = "<p>" + "客户来电询问退款进度，先核对订单号再查询物流。" * 40 + "</p>"
    sections = []
    for chapter in range(8):
        sections.append(NewSection(depth=1, title=f"第{chapter}部分"))
        sections += [NewSection(depth=2, title=f"案例{chapter}-{n}", body=body) for n in range(60)]
    insert_sections(manual=manual, parent=None, sections=sections, user=alice)
    return manual


def test_killing_the_print_worker_fails_the_edition_and_leaves_nothing(
    long_manual, alice, tmp_path, settings
):
    settings.LANBITOU_PRINT_WORKERS = 2
    edition, created = request_edition(manual=long_manual, user=alice, options=BookletOptions())
    assert created
    worker = start_worker("printing", tmp=tmp_path / "tmp", LANBITOU_PRINT_WORKERS="2")
    try:
        # The render process and its chapter workers are running.
        wait_for(lambda: len(render_processes(worker.pid)) >= 2, timeout=120,
                 message="the render process never started its chapter workers")  # fmt: skip
        render = render_processes(worker.pid)
        assert Edition.objects.get(pk=edition.pk).status == Edition.Status.RENDERING
        kill_worker(worker, render, message="render processes outlived their worker")
    finally:
        stop(worker)
    # The next worker to start fails the edition, with a reason, and closes its task.
    second = start_worker("printing", tmp=tmp_path / "tmp")
    try:
        wait_for(
            lambda: Edition.objects.get(pk=edition.pk).status == Edition.Status.FAILED,
            timeout=60, message="the dead worker's edition was not failed",
        )  # fmt: skip
    finally:
        stop(second)
    edition.refresh_from_db()
    assert "后台进程停止" in edition.failure_reason
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()
    # No booklet content in the temp folder, no half-written PDF beside the editions.
    assert list((tmp_path / "tmp").rglob("*")) == []
    for folder in (settings.EDITIONS_DIR / str(long_manual.pk), work_dir() / str(long_manual.pk)):
        assert not folder.exists() or list(folder.iterdir()) == []
    # Printing the same options again starts a new edition instead of the dead one.
    again, created = request_edition(manual=long_manual, user=alice, options=BookletOptions())
    assert created and again.pk != edition.pk


def test_an_edition_of_a_dead_worker_is_not_handed_back_on_reprint(
    long_manual, alice, tmp_path, settings
):
    # No worker restarts: the request itself notices that the edition's worker is gone.
    edition, _ = request_edition(manual=long_manual, user=alice, options=BookletOptions())
    worker = start_worker("printing", tmp=tmp_path / "tmp")
    try:
        # (The worker's spare render process is there from its start: wait for the edition.)
        wait_for(lambda: Edition.objects.get(pk=edition.pk).status == Edition.Status.RENDERING
                 and render_processes(worker.pid), timeout=120,
                 message="the render process never started")  # fmt: skip
        render = render_processes(worker.pid)
        kill_worker(worker, render, message="render processes outlived their worker")
    finally:
        stop(worker)
    again, created = request_edition(manual=long_manual, user=alice, options=BookletOptions())
    assert created and again.pk != edition.pk
    edition.refresh_from_db()
    assert edition.status == Edition.Status.FAILED and edition.failure_reason


def test_a_running_worker_recovers_dead_workers_jobs_periodically(alice, tmp_path):
    from django.utils import timezone

    from manuals.workers import current_worker_id
    from printing.jobs import print_edition

    manual = create_manual(owner=alice, title="一页")
    insert_sections(manual=manual, parent=None, user=alice,
                    sections=[NewSection(depth=1, title="开场白", body="<p>您好</p>")])  # fmt: skip
    worker = start_worker("printing", tmp=tmp_path / "tmp", LANBITOU_RECOVER_EVERY="1")
    try:
        # Started after the worker: only its periodic round can find it.
        edition = Edition.objects.create(manual=manual, requested_by=alice,
                                         status=Edition.Status.RENDERING,
                                         started_at=timezone.now())  # fmt: skip
        host, _pid, ticks = current_worker_id().split(":")
        DBTaskResult.objects.create(
            status="RUNNING", task_path=print_edition.module_path,
            args_kwargs={"args": [edition.pk], "kwargs": {}}, queue_name="printing",
            backend_name="default", run_after=timezone.now(), started_at=timezone.now(),
            worker_ids=[f"{host}:999999:{ticks}"],
        )  # fmt: skip
        wait_for(
            lambda: Edition.objects.get(pk=edition.pk).status == Edition.Status.FAILED,
            timeout=60, message="the running worker never recovered the dead worker's job",
        )  # fmt: skip
    finally:
        stop(worker)


def test_a_print_worker_keeps_a_render_process_ready_which_dies_with_it(tmp_path):
    imports = start_worker("imports", tmp=tmp_path / "tmp")
    printing = start_worker("printing,imports", tmp=tmp_path / "tmp")
    try:
        wait_for(lambda: render_processes(printing.pid), timeout=60,
                 message="the print worker started no render process ahead")  # fmt: skip
        spare = render_processes(printing.pid)
        assert render_processes(imports.pid) == set()  # it never prints
        kill_worker(printing, spare, message="the spare render process outlived its worker")
    finally:
        stop(printing)
        stop(imports)
