"""Two print requests (and two workers) at once for the same manual, on a real PostgreSQL."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pgserver import postgres_bin_dir, running_postgres

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries are not installed (make test installs them)")
    with running_postgres(bin_dir) as url:
        environment = dict(os.environ)
        environment.update(
            DATABASE_URL=url,
            DJANGO_SETTINGS_MODULE="config.settings",
            LANBITOU_DATA_DIR=str(tmp_path_factory.mktemp("print-race")),
        )
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO,
                       env=environment, check=True, capture_output=True, timeout=300)  # fmt: skip
        yield environment


def _start(args, env):
    return subprocess.Popen([sys.executable, "-m", "tests.printing.print_worker", *args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def _result(proc) -> dict:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_simultaneous_requests_and_workers_make_one_edition_once(env):
    _result(_start(["setup"], env))
    start_at = str(time.time() + 4)  # every process is imported and waiting by then
    requests = [_result(p) for p in [_start(["request", start_at], env) for _ in range(4)]]
    assert len({r["edition_id"] for r in requests}) == 1
    assert sorted(r["created"] for r in requests) == [False, False, False, True]

    edition_id = str(requests[0]["edition_id"])
    start_at = str(time.time() + 4)
    runs = [_result(p) for p in [_start(["run", edition_id, start_at], env) for _ in range(3)]]
    assert sorted(r["outcome"] for r in runs) == ["done", "skipped", "skipped"]
