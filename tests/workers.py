"""Real ``manage.py db_worker`` processes on the test database, for the crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

REPO = Path(__file__).resolve().parent.parent


def environment_for(*, tmp: Path, extra_path: list[str] = (), **env) -> dict:
    """A child process on the test's database and data directories, TMPDIR ``tmp``."""
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "PYTHONPATH": os.pathsep.join([*extra_path, str(REPO)]),
        "TMPDIR": str(tmp),
        "LANBITOU_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LANBITOU_TEST_DATA_DIR": str(settings.DATA_DIR),
        "LANBITOU_TEST_EDITIONS_DIR": str(settings.EDITIONS_DIR),
        "LANBITOU_TEST_INDEX_DIR": str(settings.SEARCH_INDEX_DIR),
        **env,
    }


def start_worker(queue: str, *, tmp: Path, extra_path: list[str] = (), **env) -> subprocess.Popen:
    """A worker on ``queue`` whose temporary files land in ``tmp`` (its TMPDIR)."""
    environment = environment_for(tmp=tmp, extra_path=extra_path, **env)
    command = [sys.executable, str(REPO / "manage.py"), "db_worker", "--queue-name", queue,
               "--no-startup-delay", "--interval", "0.2", "--no-reload"]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, env=environment, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.update(children)
            todo += children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, *, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(message)


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
