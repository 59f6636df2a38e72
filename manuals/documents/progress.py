"""A background import's progress and journal, in the "imports" storage beside the upload.

The import itself is one database transaction, so neither can be written to the database
where a page or a recovering worker would see it (SQLite has one writer, held by the import
until it commits). The imports storage is shared by every node (a shared directory or a
bucket), so a page served by any node reads the progress, and the worker that recovers a
dead import (on any node) finds the files it had written.

Each write is a new object (``imports/progress/<job>/<time>.json`` or ``…/journal-<time>``):
an object store has no append and no atomic replace; a reader takes the newest whole one.
"""

from __future__ import annotations

import json
import time

from django.core.files.base import ContentFile

from manuals.storage import imports_storage, remove_empty_folder

FOLDER = "imports/progress"
# Progress is written at most this often (one object per write), and at every phase change.
WRITE_EVERY = 0.5  # seconds
_last_write: dict[int, tuple[float, str]] = {}


def _folder(job_id: int) -> str:
    return f"{FOLDER}/{job_id}"


def _names(job_id: int) -> list[str]:
    try:
        _dirs, files = imports_storage().listdir(_folder(job_id))
    except FileNotFoundError:
        return []
    return sorted(files)


def _stamp() -> str:
    return f"{time.time_ns():020d}"


def write_progress(job_id: int, phase: str, done: int, total: int) -> None:
    now = time.monotonic()
    last = _last_write.get(job_id)
    if last and last[1] == phase and done < total and now - last[0] < WRITE_EVERY:
        return
    if len(_last_write) > 1000:  # jobs this process wrote for once and never forgot
        _last_write.clear()
    _last_write[job_id] = (now, phase)
    storage = imports_storage()
    data = json.dumps({"phase": phase, "done": done, "total": total}).encode()
    written = storage.save(f"{_folder(job_id)}/{_stamp()}.json", ContentFile(data))
    for name in _names(job_id):
        full = f"{_folder(job_id)}/{name}"
        if name.endswith(".json") and full < written:
            storage.delete(full)  # older snapshots


def read_progress(job_id: int) -> dict:
    """The newest whole snapshot: {"phase", "done", "total"} (zeros when there is none).

    One being written may be empty or half there, and a writer deletes the older ones
    once its own is whole: then the one before it counts, or a fresh look."""
    storage = imports_storage()
    for _attempt in range(3):
        snapshots = [n for n in reversed(_names(job_id)) if n.endswith(".json")]
        for name in snapshots:
            try:
                with storage.open(f"{_folder(job_id)}/{name}", "rb") as handle:
                    progress = json.loads(handle.read())
            except (FileNotFoundError, ValueError):
                continue
            if isinstance(progress, dict):
                return progress
        if not snapshots:
            break
    return {"phase": "", "done": 0, "total": 0}


def journal_files(job_id: int, names: list[str]) -> None:
    """Note files an import is about to write, before it writes them."""
    if names:
        content = ContentFile("".join(f"{name}\n" for name in names).encode())
        imports_storage().save(f"{_folder(job_id)}/journal-{_stamp()}", content)


def journaled_files(job_id: int) -> set[str]:
    storage = imports_storage()
    found: set[str] = set()
    # Also the journal of an import started before it moved into this folder.
    names = [f"{_folder(job_id)}/{n}" for n in _names(job_id) if n.startswith("journal-")]
    for name in [*names, f"{FOLDER}/{job_id}.files"]:
        try:
            with storage.open(name, "rb") as handle:
                found.update(handle.read().decode("utf-8", "replace").split())
        except FileNotFoundError:
            continue
    return found


def forget(job_id: int) -> None:
    """Everything of the job's progress and journal (once the import is over)."""
    storage = imports_storage()
    _last_write.pop(job_id, None)
    for name in _names(job_id):
        storage.delete(f"{_folder(job_id)}/{name}")
    for legacy in (f"{FOLDER}/{job_id}.json", f"{FOLDER}/{job_id}.files"):
        storage.delete(legacy)
    remove_empty_folder(storage, _folder(job_id))
