"""The named file storages (settings.STORAGES, built by config/storage.py).

"default" holds pictures and thumbnails, "editions" print editions, "imports" uploads on
their way in and an import's progress. Every read and write goes through these Storage
objects, so a shared directory or an object store serves every node alike.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.deconstruct import deconstructible


@deconstructible(path="manuals.storage.SettingDirectoryStorage")
class SettingDirectoryStorage(FileSystemStorage):
    """A local (or shared) directory named by a setting (MEDIA_ROOT, EDITIONS_DIR), read
    each time it is used, so a test or a command that changes the setting is obeyed."""

    def __init__(self, setting: str = "MEDIA_ROOT", **kwargs):
        self.setting = setting
        super().__init__(**kwargs)

    @property
    def base_location(self):
        return str(getattr(settings, self.setting))

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def pictures_storage() -> Storage:
    return storages["default"]


def editions_storage() -> Storage:
    return storages["editions"]


def imports_storage() -> Storage:
    return storages["imports"]


def remove_empty_folder(storage: Storage, name: str) -> None:
    """A directory's empty folder goes (an object store has none to remove)."""
    if isinstance(storage, FileSystemStorage):
        try:
            os.rmdir(storage.path(name))
        except OSError:
            pass  # not empty, or already gone


@contextmanager
def local_file(storage: Storage, name: str) -> Iterator[Path]:
    """A file of ``storage`` as a path on this machine, for libraries that want one (zip,
    python-docx): the file itself in a directory, else a temporary copy removed afterwards.
    Raises FileNotFoundError (OSError) when it is not there."""
    if isinstance(storage, FileSystemStorage):
        path = Path(storage.path(name))
        if not path.is_file():
            raise FileNotFoundError(name)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="lanbitou-") as folder:
        copy = Path(folder) / PurePosixPath(name).name
        with storage.open(name, "rb") as source, open(copy, "wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        yield copy
