"""Many processes writing the same manuals at once, on a real PostgreSQL.

django-mptt corrupts nested sets under concurrent writes unless every write locks the
manual and works on fresh rows; this is the test that the locking in manuals.tree holds.
"""

import subprocess
import sys

import pytest

from tests.pgserver import REPO, last_json_line, worker_env

WORKERS = 8
OPS_PER_WORKER = 150
SECONDS_PER_WORKER = 90

pytestmark = pytest.mark.postgres


def _worker(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.manuals.concurrency_worker", *command],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(command: list[str], env: dict) -> dict:
    proc = _worker(command, env)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return last_json_line(out)


def test_eight_processes_editing_the_same_manuals_leave_every_tree_intact(postgres_url, tmp_path):
    env = worker_env(postgres_url, tmp_path)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    start = _run(["setup"], env)

    procs = [
        _worker(["work", str(seed), str(OPS_PER_WORKER), str(SECONDS_PER_WORKER)], env)
        for seed in range(WORKERS)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(last_json_line(out))

    errors = [e for r in results for e in r["errors"]]
    assert errors == [], "\n".join(errors)
    done = sum(sum(r["done"].values()) for r in results)
    attempted = sum(r["attempted"] for r in results)
    summary = [(r["attempted"], r["done"], sum(r["refused"].values())) for r in results]
    # The workers really raced (a busy machine may cut them short at the time limit), and
    # most operations went through rather than being refused.
    assert attempted >= WORKERS * 30, summary
    assert done > attempted / 2, summary
    kinds = {kind for r in results for kind in r["done"]}
    assert kinds >= {"add", "bulk_add", "move", "shift", "edit", "trash", "restore", "new_manual"}

    end = _run(["verify"], env)
    assert end["problems"] == []
    created = {pk for r in results for pk in r["created"]}
    purged = [pk for r in results for pk in r["purged"]]
    assert len(purged) == len(set(purged)), "a section was purged twice"
    expected = (set(start["section_ids"]) | created) - set(purged)
    assert set(end["section_ids"]) == expected, "sections were lost or appeared from nowhere"


def test_the_database_refuses_two_sections_with_the_same_bounds(postgres_url, tmp_path):
    """The deferrable unique constraints make a corrupt tree fail at commit."""
    env = worker_env(postgres_url, tmp_path)
    script = """
import django, json
django.setup()
from django.db import IntegrityError, transaction
from django.db.models import F
from manuals.models import Section
# A section with children: giving it its first child's lft breaks nothing but uniqueness.
chapter = Section.objects.filter(level=1, rght__gt=F("lft") + 1).order_by("pk").first()
try:
    with transaction.atomic():
        Section.objects.filter(pk=chapter.pk).update(lft=chapter.lft + 1)
    outcome = "committed"
except IntegrityError as exc:
    outcome = "refused: " + str(exc).splitlines()[0]
print(json.dumps({"outcome": outcome}))
"""
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    if not _run(["verify"], env)["manuals"]:
        _run(["setup"], env)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    outcome = last_json_line(proc.stdout)["outcome"]
    assert outcome.startswith("refused"), outcome
    assert "section_unique_lft" in outcome
    assert _run(["verify"], env)["problems"] == []
