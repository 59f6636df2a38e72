"""A storage that behaves like an object store (S3 and the like) over a real directory: it
has no local paths (Storage.path raises), is not a FileSystemStorage, and lists a missing
folder as empty. Code that works on it works without ``.path``."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage, Storage
from django.utils.deconstruct import deconstructible


@deconstructible(path="tests.object_store.ObjectStoreLike")
class ObjectStoreLike(Storage):
    def __init__(self, location: str):
        self.directory = FileSystemStorage(location=location)

    def _open(self, name, mode="rb"):
        return self.directory._open(name, mode)

    def _save(self, name, content):
        return self.directory._save(name, content)

    def delete(self, name):
        self.directory.delete(name)

    def exists(self, name):
        return self.directory.exists(name)

    def listdir(self, path):
        try:
            return self.directory.listdir(path)
        except FileNotFoundError:
            return [], []  # a prefix nothing is stored under

    def size(self, name):
        return self.directory.size(name)

    def get_modified_time(self, name):
        return self.directory.get_modified_time(name)


def object_storages(root) -> dict:
    """settings.STORAGES with the three file storages in ``root`` (one "bucket")."""
    from django.conf import settings

    options = {alias: {"location": str(root / folder)}
               for alias, folder in {"default": "media", "imports": "media",
                                     "editions": "editions"}.items()}  # fmt: skip
    return {
        **settings.STORAGES,
        **{alias: {"BACKEND": "tests.object_store.ObjectStoreLike", "OPTIONS": opts}
           for alias, opts in options.items()},
    }  # fmt: skip
