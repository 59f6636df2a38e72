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
from django.core.files.storage import FileSystemStorage, Storage, default_storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, empty


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


class NamedStorage(LazyObject):
    """``storages[alias]``, looked up when first used and again after settings.STORAGES
    changes (as Django does for default_storage), so model fields can hold it."""

    def __init__(self, alias: str):
        super().__init__()
        self.__dict__["alias"] = alias

    def _setup(self):
        self._wrapped = storages[self.__dict__["alias"]]


_EDITIONS, _IMPORTS = NamedStorage("editions"), NamedStorage("imports")


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs) -> None:
    if setting == "STORAGES":
        _EDITIONS._wrapped = _IMPORTS._wrapped = empty


def pictures_storage() -> Storage:
    return default_storage


# Callables, so that the model fields' migrations name them instead of a storage's options.
def editions_storage() -> Storage:
    return _EDITIONS


def imports_storage() -> Storage:
    return _IMPORTS


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
