"""Templates, updates, copies and handovers racing each other on a real PostgreSQL."""

import json
import subprocess
import sys

import pytest

from tests.manuals.test_concurrency import REPO, _env, _json_from, postgres_url  # noqa: F401

pytestmark = pytest.mark.postgres
WORKERS = 4
OPS = 40


def _start(args, env, stdin=None):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.manuals.circulation_worker", *args],
        cwd=REPO, env=env, stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_lead_and_agents_racing_on_templates_and_handovers_lose_nothing(postgres_url, tmp_path):  # noqa: F811
    env = _env(postgres_url, tmp_path)
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
        results.append(_json_from(out))
    errors = [e for r in results for e in r["errors"]]
    assert errors == [], "\n".join(errors)
    kinds = {k for r in results for k in r["done"]}
    assert kinds >= {"lead_edits", "agent_edits", "agent_takes_updates", "agent_copies"}

    written = [w for r in results for w in r["written"]]
    proc = _start(["verify"], env, stdin=True)
    out, err = proc.communicate(json.dumps(written), timeout=300)
    assert proc.returncode == 0, err
    end = _json_from(out)
    assert end["problems"] == []
    assert end["lost"] == [], "an agent's saved text is in no revision of its section"
