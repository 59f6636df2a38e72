"""An edition's PDF goes with its row: deleted on its own (admin) or with its manual.

A receiver rather than a function to call, because the usual way an edition goes is a
cascade from its manual (a deleted template, the admin), which calls no code of ours. The
file is derived data: it is removed only once the deletion has committed, so a rolled-back
deletion keeps its PDF.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction


def edition_files(*, manual_id: int, edition_id: int) -> list[Path]:
    """Every PDF this edition may have left, also one finished while it was being deleted."""
    folder = Path(settings.EDITIONS_DIR) / str(manual_id)
    return sorted(folder.glob(f"edition-{edition_id}-*.pdf"))


def remove_partial_files(*, manual_id: int, edition_id: int) -> None:
    """What a render process killed half-way leaves beside the PDF (see render.py)."""
    folder = Path(settings.EDITIONS_DIR) / str(manual_id)
    for partial in folder.glob(f".edition-{edition_id}-*"):
        shutil.rmtree(partial, ignore_errors=True)


def remove_edition_files(*, manual_id: int, edition_id: int, names: list[str]) -> None:
    storage_root = Path(settings.EDITIONS_DIR)
    paths = {storage_root / name for name in names if name}
    paths.update(edition_files(manual_id=manual_id, edition_id=edition_id))
    for path in paths:
        path.unlink(missing_ok=True)
    remove_partial_files(manual_id=manual_id, edition_id=edition_id)
    try:
        (storage_root / str(manual_id)).rmdir()  # only if that was the manual's last PDF
    except OSError:
        pass


def edition_deleted(sender, instance, using=None, **kwargs) -> None:
    manual_id, edition_id, names = instance.manual_id, instance.pk, [instance.file.name]
    transaction.on_commit(
        lambda: remove_edition_files(manual_id=manual_id, edition_id=edition_id, names=names),
        using=using,
    )
