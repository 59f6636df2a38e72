"""``manage.py check_trees``: exit 0 on intact trees, non-zero with a message on corruption."""

import os
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from manuals.models import Section
from tests.conftest import section_titled

REPO = Path(__file__).resolve().parents[2]


def check_trees_output() -> str:
    out = StringIO()
    call_command("check_trees", stdout=out)
    return out.getvalue()


def corrupt(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_intact_manuals_pass(alice_manual, bob_manual):
    assert "All trees are intact." in check_trees_output()


CORRUPTIONS = {
    "two sections share a bound": (
        "UPDATE manuals_section SET lft = lft + 1 WHERE id = %s",
        "管理制度",
        "lft/rght are not exactly",
    ),
    "a section outside its parent": (
        "UPDATE manuals_section SET lft = lft + 100, rght = rght + 100 WHERE id = %s",
        "考勤制度",
        "not inside its parent",
    ),
    "a wrong level": (
        "UPDATE manuals_section SET level = 5 WHERE id = %s",
        "质检标准",
        "level 5, parent's is 1",
    ),
    "a second root": (
        "UPDATE manuals_section SET parent_id = NULL, level = 0 WHERE id = %s",
        "项目资料",
        "2 roots",
    ),
}


@pytest.mark.parametrize("sql,title,message", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_tree_fails_with_a_message(alice_manual, bob_manual, sql, title, message):
    corrupt(sql, section_titled(alice_manual, title).pk)
    err = StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("check_trees", stdout=StringIO(), stderr=err)
    assert message in err.getvalue()
    # The report names the broken tree only, not bob's intact one.
    bob_tree = Section.objects.filter(manual=bob_manual).values_list("tree_id").first()[0]
    assert f"tree {bob_tree}:" not in err.getvalue()


def test_a_manual_whose_root_points_elsewhere_is_reported(alice_manual, bob_manual):
    chapter = section_titled(alice_manual, "管理制度")
    corrupt("UPDATE manuals_manual SET root_id = %s WHERE id = %s", chapter.pk, alice_manual.pk)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("check_trees", stdout=StringIO(), stderr=err)
    assert f"manual {alice_manual.pk}: root is {chapter.pk}" in err.getvalue()


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_command_exits_non_zero_on_a_real_database(tmp_path):
    env = {**os.environ, "LANBITOU_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    assert _manage("migrate", "-v", "0", env=env).returncode == 0
    assert _manage("seed_demo", env=env).returncode == 0
    clean = _manage("check_trees", env=env)
    assert clean.returncode == 0, clean.stderr
    assert "All trees are intact." in clean.stdout

    with sqlite3.connect(tmp_path / "lanbitou.sqlite3") as db:
        (section_id,) = db.execute(
            "SELECT id FROM manuals_section WHERE title = 'Bug 升级清单' ORDER BY id LIMIT 1"
        ).fetchone()
        db.execute("UPDATE manuals_section SET rght = rght + 7 WHERE id = ?", (section_id,))
    broken = _manage("check_trees", env=env)
    assert broken.returncode != 0
    assert "lft/rght are not exactly" in broken.stderr
    assert "problem(s) found" in broken.stderr
