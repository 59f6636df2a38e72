"""Templates, updates, copies and handovers racing each other on a real PostgreSQL."""

import json
import subprocess
import sys

import pytest

from tests.pgserver import REPO, last_json_line, worker_env

pytestmark = pytest.mark.postgres
WORKERS = 4
OPS = 40


def _start(args, env, stdin=None):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.manuals.circulation_worker", *args],
        cwd=REPO, env=env, stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_lead_and_agents_racing_on_templates_and_handovers_lose_nothing(postgres_url, tmp_path):
    env = worker_env(postgres_url, tmp_path)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    out, err = _start(["setup"], env).communicate(timeout=300)
    assert "template_id" in out, err

    procs = [_start(["work", str(seed), str(OPS)], env) for seed in range(WORKERS)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(last_json_line(out))
    errors = [e for r in results for e in r["errors"]]
    assert errors == [], "\n".join(errors)
    kinds = {k for r in results for k in r["done"]}
    assert kinds >= {"lead_edits", "agent_edits", "agent_takes_updates", "agent_copies"}

    written = [w for r in results for w in r["written"]]
    proc = _start(["verify"], env, stdin=True)
    out, err = proc.communicate(json.dumps(written), timeout=300)
    assert proc.returncode == 0, err
    end = last_json_line(out)
    assert end["problems"] == []
    assert end["lost"] == [], "an agent's saved text is in no revision of its section"
