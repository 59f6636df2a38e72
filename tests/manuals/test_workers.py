"""Telling a dead worker from a busy one: the names workers give themselves."""

import subprocess
from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from manuals.workers import abandoned_tasks, close_abandoned_task, current_worker_id, worker_alive


def running_task(worker_id: str, *, started_minutes_ago: int = 1) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status="RUNNING", task_path="printing.jobs.print_edition", args_kwargs={"args": [1]},
        queue_name="printing", backend_name="default", run_after=now,
        started_at=now - timedelta(minutes=started_minutes_ago), worker_ids=[worker_id],
    )  # fmt: skip


def test_this_process_is_alive_and_a_finished_one_is_not():
    assert worker_alive(current_worker_id()) is True
    finished = subprocess.Popen(["/bin/true"])
    finished.wait()
    host, _pid, ticks = current_worker_id().split(":")
    assert worker_alive(f"{host}:{finished.pid}:{ticks}") is False


def test_a_reused_pid_is_not_the_worker_that_had_it():
    host, pid, ticks = current_worker_id().split(":")
    assert worker_alive(f"{host}:{pid}:{int(ticks) - 1}") is False


def test_workers_of_other_hosts_or_without_our_name_cannot_be_told():
    assert worker_alive("another-host:1:1") is None
    assert worker_alive("a8f3c0b1d2e4") is None


def test_only_tasks_of_dead_workers_or_long_silent_ones_are_abandoned(db):
    host, _pid, ticks = current_worker_id().split(":")
    dead = running_task(f"{host}:999999:{ticks}")
    running_task(current_worker_id())  # busy
    running_task("another-host:1:1")  # on another host, recently
    elsewhere_old = running_task("another-host:1:1", started_minutes_ago=120)
    found = abandoned_tasks(task_paths=["printing.jobs.print_edition"],
                            older_than=timedelta(minutes=30))  # fmt: skip
    assert {row.pk for row in found} == {dead.pk, elsewhere_old.pk}
    assert close_abandoned_task(dead, reason="gone") is True
    assert close_abandoned_task(dead, reason="gone") is False  # once
    dead.refresh_from_db()
    assert dead.status == "FAILED" and dead.traceback == "gone"
