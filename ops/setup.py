"""What ``serve`` does before it starts the stack: a ready data directory."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command

from search import backends


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
