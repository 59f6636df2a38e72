"""What /healthz checks: each check returns None when fine, else a short reason."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.utils import timezone

from manuals.storage import remove_empty_folder
from ops.models import WorkerBeat
from search import backends

# A worker writes its beat every BEAT_SECONDS; missing three in a row means it is gone.
BEAT_SECONDS = 10
STALE_AFTER = timedelta(seconds=3 * BEAT_SECONDS + 5)
FILE_STORAGES = ("default", "editions", "imports")


def database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"database: {exc.__class__.__name__}"
    return None


def data_dir() -> str | None:
    directory = settings.DATA_DIR  # this node's own: index, caches, SQLite
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        return f"{directory} not writable: {exc.strerror}"
    return None


def file_storages() -> str | None:
    """Each file storage (pictures, editions, imports) takes a file and gives it back."""
    for alias in FILE_STORAGES:
        try:
            storage = storages[alias]
            name = storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
            try:
                with storage.open(name, "rb") as handle:
                    handle.read()
            finally:
                storage.delete(name)
                remove_empty_folder(storage, "healthz")
        except Exception as exc:  # a bucket answers with its own errors
            return f"storage {alias!r} not writable: {exc.__class__.__name__}: {exc}"[:300]
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


CHECKS = {
    "database": database,
    "data_dir": data_dir,
    "storage": file_storages,
    "search_index": search_index,
}


def run_checks() -> dict[str, str | None]:
    results = {name: check() for name, check in CHECKS.items()}
    # Worker beats live in the database: ask only when it answers.
    results["workers"] = workers() if results["database"] is None else "database down"
    return results
