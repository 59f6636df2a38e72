"""Which background worker runs a task, and whether that worker is still alive.

``db_worker`` marks a task RUNNING when it claims it and finished when the task returns.
A worker killed in between (OOM killer, a deploy, ``kill -9``) leaves the row RUNNING for
ever, and the job behind it (an edition, an import) with it. Our workers name themselves
``host:pid:start`` (the process start time tells a reused pid apart), so any process on
the same host can tell a dead worker from a busy one; a task claimed on another host (or
by a worker started without our name) counts as abandoned only after ``older_than``.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def _start_ticks(pid: int) -> str | None:
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 — a one-shot read of procfs
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ")".
    return stat.rsplit(")", 1)[1].split()[19]


def _host() -> str:
    return socket.gethostname()[:40]


def current_worker_id() -> str:
    """This process's name as a worker: at most 64 characters, like ``db_worker`` wants."""
    return f"{_host()}:{os.getpid()}:{_start_ticks(os.getpid()) or 0}"


def worker_alive(worker_id: str) -> bool | None:
    """True or False for a worker of this host, None when we cannot tell."""
    parts = worker_id.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _host() or not parts[1].isdigit():
        return None
    _host_name, pid, ticks = parts
    return _start_ticks(int(pid)) == ticks


def abandoned_tasks(*, task_paths: list[str], older_than: timedelta) -> list[DBTaskResult]:
    """RUNNING tasks among ``task_paths`` whose worker is gone."""
    cutoff = timezone.now() - older_than
    found = []
    for row in DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, task_path__in=task_paths
    ):
        alive = worker_alive(row.worker_ids[-1]) if row.worker_ids else None
        if alive is False or (alive is None and row.started_at and row.started_at < cutoff):
            found.append(row)
    return found


def close_abandoned_task(row: DBTaskResult, *, reason: str) -> bool:
    """Mark the task failed (once: False if it finished or was closed meanwhile)."""
    return bool(
        DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path="manuals.workers.WorkerLost",
            traceback=reason,
        )
    )


def task_argument(row: DBTaskResult) -> int | None:
    """The job id our tasks take as their one argument."""
    args = (row.args_kwargs or {}).get("args") or []
    return args[0] if args and isinstance(args[0], int) else None
