"""backup / restore on PostgreSQL: pg_dump of a running site, pg_restore into an empty
database, then the same checks as on SQLite."""

import subprocess
import sys

import psycopg
import pytest

from tests.pgserver import REPO, postgres_bin_dir, running_postgres, worker_env

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(postgres_bin_dir() is None, reason="needs Debian's postgresql"),
]


def manage(url, data_dir, *args) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO, env=worker_env(url, data_dir), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def count(url, table) -> int:
    with psycopg.connect(url) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_a_postgresql_site_backs_up_and_restores_into_an_empty_database(tmp_path):
    with running_postgres(postgres_bin_dir()) as url:
        manage(url, tmp_path / "site", "migrate", "-v", "0")
        manage(url, tmp_path / "site", "seed_demo")
        manage(url, tmp_path / "site", "backup", "-o", str(tmp_path / "site.zip"))
        restored_url = url.rsplit("/", 1)[0] + "/restored"
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("CREATE DATABASE restored")
        result = manage(restored_url, tmp_path / "restored", "restore", str(tmp_path / "site.zip"))
        assert "All trees are intact." in result.stdout
        assert "The search index matches the database." in result.stdout
        for table in ("manuals_section", "manuals_revision", "auth_user"):
            assert count(restored_url, table) == count(url, table) > 0
