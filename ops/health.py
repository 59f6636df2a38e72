"""What /healthz checks: each check returns None when fine, else a short reason."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ops.models import WorkerBeat
from search import backends

# A worker writes its beat every BEAT_SECONDS; missing three in a row means it is gone.
BEAT_SECONDS = 10
STALE_AFTER = timedelta(seconds=3 * BEAT_SECONDS + 5)


def database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"database: {exc.__class__.__name__}"
    return None


def data_dir() -> str | None:
    for directory in (settings.DATA_DIR, settings.MEDIA_ROOT):
        try:
            os.makedirs(directory, exist_ok=True)
            with tempfile.TemporaryFile(dir=directory):
                pass
        except OSError as exc:
            return f"{directory} not writable: {exc.strerror}"
    return None


def search_index() -> str | None:
    reason = backends.current().unavailable_reason()
    return f"search index: {reason}" if reason else None


def workers() -> str | None:
    recent = WorkerBeat.objects.filter(seen_at__gte=timezone.now() - STALE_AFTER)
    served = {queue for beat in recent for queue in beat.queues.split(",")}
    missing = [queue for queue in settings.TASKS["default"]["QUEUES"] if queue not in served]
    if missing:
        return "no worker seen lately for queue " + ", ".join(missing)
    return None


CHECKS = {"database": database, "data_dir": data_dir, "search_index": search_index}


def run_checks() -> dict[str, str | None]:
    results = {name: check() for name, check in CHECKS.items()}
    # Worker beats live in the database: ask only when it answers.
    results["workers"] = workers() if results["database"] is None else "database down"
    return results
