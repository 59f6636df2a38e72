"""Benchmark setup, and the generated corpus (which lives with the tests that use it)."""

from __future__ import annotations

import os

from tests.search.corpus import ENGLISH, populate

__all__ = ["ENGLISH", "populate", "setup_django"]


def setup_django(data_dir: str, *, migrate: bool = True) -> None:
    """Point Django at a scratch data directory with production settings (no DEBUG query
    log) and create the database there."""
    os.environ["LANBITOU_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LANBITOU_DEBUG"] = "0"
    os.environ.setdefault("LANBITOU_SECRET_KEY", "bench-" + os.urandom(16).hex())
    os.environ.setdefault("LANBITOU_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
