"""What ``serve`` does before it starts the stack: a ready data directory."""

from __future__ import annotations

import contextlib
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from search import backends

# pg_advisory_lock key of the start-up preparation ("LBTPREP").
PREPARE_LOCK = 0x4C42_5450_5245_50


@contextlib.contextmanager
def one_node_at_a_time():
    """Nodes starting together on one PostgreSQL take turns preparing: the first migrates,
    builds the index and loads the demo; the next ones find it all done. (Two concurrent
    migrations fail on each other's tables; two first runs would load two demo teams.)
    SQLite serves one machine, which starts one ``serve``."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [PREPARE_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [PREPARE_LOCK])


def prepare_data_dir(*, stdout) -> None:
    """Migrate, collect static files, and build the search index if there is none."""
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    if not backends.current().exists():
        stdout.write("Building the search index…")
        call_command("rebuild_index", verbosity=0)


def first_run_demo(*, stdout) -> bool:
    """On an empty database, the demo team with a fresh random password, printed once."""
    if get_user_model().objects.exists():
        return False
    password = secrets.token_urlsafe(12)
    call_command("seed_demo", password=password, stdout=stdout)
    stdout.write("Write the password down: it is shown only this once.")
    return True
