"""An edition's PDF goes with its row: deleted on its own (admin) or with its manual.

A receiver rather than a function to call, because the usual way an edition goes is a
cascade from its manual (a deleted template, the admin), which calls no code of ours. The
file is derived data: it is removed only once the deletion has committed, so a rolled-back
deletion keeps its PDF.

Finished PDFs live in the "editions" storage (shared by every node); a render writes its
PDF on the worker's own disk first (``work_dir``), and only that is left by a killed one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from manuals.storage import editions_storage, remove_empty_folder


def work_dir() -> Path:
    """Where this machine's render processes write a PDF before it goes into storage."""
    return Path(settings.DATA_DIR) / "print-work"


def edition_files(*, manual_id: int, edition_id: int) -> list[str]:
    """Every stored PDF this edition may have left, also one finished while it was being
    deleted (names in the editions storage)."""
    try:
        _folders, files = editions_storage().listdir(str(manual_id))
    except FileNotFoundError:
        return []
    prefix = f"edition-{edition_id}-"
    return sorted(f"{manual_id}/{f}" for f in files if f.startswith(prefix) and f.endswith(".pdf"))


def remove_partial_files(*, manual_id: int, edition_id: int) -> None:
    """What a render leaves on this machine: its PDF before it was stored, and the folder
    of a render process killed half-way (see render.py)."""
    folder = work_dir() / str(manual_id)
    for partial in folder.glob(f".edition-{edition_id}-*"):
        shutil.rmtree(partial, ignore_errors=True)
    for local in folder.glob(f"edition-{edition_id}-*.pdf"):
        local.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass


def remove_edition_files(*, manual_id: int, edition_id: int, names: list[str]) -> None:
    storage = editions_storage()
    for name in {*filter(None, names), *edition_files(manual_id=manual_id, edition_id=edition_id)}:
        storage.delete(name)
    remove_partial_files(manual_id=manual_id, edition_id=edition_id)
    remove_empty_folder(storage, str(manual_id))  # only if that was the manual's last PDF


def edition_deleted(sender, instance, using=None, **kwargs) -> None:
    manual_id, edition_id, names = instance.manual_id, instance.pk, [instance.file.name]
    transaction.on_commit(
        lambda: remove_edition_files(manual_id=manual_id, edition_id=edition_id, names=names),
        using=using,
    )
