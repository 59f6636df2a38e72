"""One archive of everything a site holds: database, media (pictures) and printed editions.

The archive is a zip: ``manifest.json`` (format, schema, counts, a SHA-256 per file),
``database.sqlite3`` (SQLite's online backup API: a consistent copy while the site runs)
or ``database.pgdump`` (``pg_dump --format=custom``), ``media/…`` and ``editions/…``.
The database is copied first, then the files, read through the file storages (a local or
shared directory, a bucket): every picture or PDF a copied row names was already stored
(files are written before their rows commit).

``restore`` goes into an empty data directory only, checks every checksum and the schema
before touching anything, then migrates (an older archive is upgraded), rebuilds the
search index and checks the trees and the index.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.core.files import File
from django.core.files.storage import storages
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader

FORMAT = "lanbitou-backup"
FORMAT_VERSION = 1
COUNTED = {
    "users": "auth.User",
    "teams": "manuals.Team",
    "manuals": "manuals.Manual",
    "sections": "manuals.Section",
    "revisions": "manuals.Revision",
    "images": "manuals.Image",
    "editions": "printing.Edition",
}
# The file storages in the archive, under these folders (import uploads are in "default").
ARCHIVED_STORAGES = {"default": "media", "editions": "editions"}


class BackupError(Exception):
    """A backup or restore we refuse; the message says why."""


@dataclass(frozen=True)
class Report:
    path: Path
    counts: dict[str, int]
    files: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db["HOST"]:
        args += ["--host", db["HOST"]]
    if db["PORT"]:
        args += ["--port", str(db["PORT"])]
    if db["USER"]:
        args += ["--username", db["USER"]]
    return args, {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}


def _copy_database(target_dir: Path) -> Path:
    if _is_sqlite():
        out = target_dir / "database.sqlite3"
        source = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=60)
        dest = sqlite3.connect(str(out))
        try:
            # In one step, inside one read transaction: a consistent snapshot. In WAL mode
            # writers carry on meanwhile (a page-by-page copy would restart on every write).
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        return out
    out = target_dir / "database.pgdump"
    args, env = _pg_env()
    result = subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(out), *args],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return out


def _applied_migrations() -> dict[str, list[str]]:
    applied = MigrationLoader(connection, ignore_no_migrations=True).applied_migrations
    by_app: dict[str, list[str]] = {}
    for app, name in sorted(applied):
        by_app.setdefault(app, []).append(name)
    return by_app


def _counts() -> dict[str, int]:
    from django.apps import apps

    return {key: apps.get_model(label).objects.count() for key, label in COUNTED.items()}


def _stored_files(alias: str):
    """(storage, name) of every file in a storage, walked through the Storage API (the same
    for a directory and a bucket)."""
    storage = storages[alias]
    folders = [""]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = storage.listdir(folder)
        except FileNotFoundError:
            continue
        join = (lambda n, f=folder: f"{f}/{n}") if folder else (lambda n: n)
        folders += [join(d) for d in sorted(subfolders, reverse=True)]
        for name in sorted(files):
            yield storage, join(name)


def _add_stored(archive: zipfile.ZipFile, storage, name: str, arcname: str) -> dict:
    """Copy one stored file into the archive (uncompressed: pictures and PDFs are already
    compressed), hashing it on the way."""
    digest, size = hashlib.sha256(), 0
    with storage.open(name, "rb") as source:  # FileNotFoundError: deleted meanwhile
        info = zipfile.ZipInfo(arcname, date_time=datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED
        with archive.open(info, "w", force_zip64=True) as out:
            for block in iter(lambda: source.read(1024 * 1024), b""):
                digest.update(block)
                size += len(block)
                out.write(block)
    return {"sha256": digest.hexdigest(), "size": size}


def backup(*, output: Path) -> Report:
    """Write the archive to ``output`` (via a temporary file: never half an archive)."""
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".backup-") as work:
        work_dir = Path(work)
        # Counts and schema in the same moment as the copy: read from the copy itself.
        database = _copy_database(work_dir)
        counts, migrations = _read_snapshot(database)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "database": connection.vendor,
            "migrations": migrations,
            "counts": counts,
            "files": {},
        }
        partial = work_dir / "archive.zip"
        with zipfile.ZipFile(partial, "w", allowZip64=True) as archive:
            manifest["files"][database.name] = {
                "sha256": _sha256(database), "size": database.stat().st_size,
            }  # fmt: skip
            archive.write(database, database.name, compress_type=zipfile.ZIP_DEFLATED)
            for alias, prefix in ARCHIVED_STORAGES.items():
                for storage, name in _stored_files(alias):
                    try:
                        entry = _add_stored(archive, storage, name, f"{prefix}/{name}")
                    except FileNotFoundError:  # deleted (after its row) while we copied
                        continue
                    manifest["files"][f"{prefix}/{name}"] = entry
            archive.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
        os.replace(partial, output)
    return Report(path=output, counts=counts, files=len(manifest["files"]))


def _read_snapshot(database: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Counts and applied migrations as of the copy (not of the live database)."""
    if database.suffix != ".sqlite3":
        return _counts(), _applied_migrations()
    from django.apps import apps

    db = sqlite3.connect(str(database))
    try:
        counts = {}
        for key, label in COUNTED.items():
            table = apps.get_model(label)._meta.db_table
            counts[key] = db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        migrations: dict[str, list[str]] = {}
        for app, name in db.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
            migrations.setdefault(app, []).append(name)
    finally:
        db.close()
    return counts, migrations


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise BackupError(f"not a Lanbitou backup (no readable manifest): {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError("not a Lanbitou backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"backup format {manifest.get('format_version')} is not supported")
    return manifest


def verify(path: Path) -> dict:
    """The manifest, once every file's checksum and the schema are confirmed."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(f"cannot read {path}: {exc}") from exc
    with archive:
        manifest = _read_manifest(archive)
        names = set(archive.namelist()) - {"manifest.json"}
        if names != set(manifest["files"]):
            raise BackupError("the archive's files do not match its manifest")
        for name, expected in manifest["files"].items():
            digest = hashlib.sha256()
            try:
                with archive.open(name) as file:
                    for block in iter(lambda f=file: f.read(1024 * 1024), b""):
                        digest.update(block)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise BackupError(f"{name} is damaged: {exc}") from exc
            if digest.hexdigest() != expected["sha256"]:
                raise BackupError(f"{name} is damaged (checksum mismatch)")
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = [
        f"{app}.{name}"
        for app, names in manifest["migrations"].items()
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise BackupError(
            "the backup comes from a newer version of Lanbitou (unknown migrations: "
            + ", ".join(unknown[:5])
            + "); upgrade the code first"
        )
    if (manifest["database"] == "sqlite") != _is_sqlite():
        raise BackupError(
            f"the backup holds a {manifest['database']} database, this site uses "
            f"{connection.vendor}"
        )
    return manifest


def _check_empty_target() -> None:
    problems = []
    if _is_sqlite():
        if Path(connection.settings_dict["NAME"]).exists():
            problems.append(f"database file {connection.settings_dict['NAME']} exists")
    else:
        with connection.cursor() as cursor:
            if connection.introspection.table_names(cursor):
                problems.append("the PostgreSQL database has tables")
    for alias, prefix in ARCHIVED_STORAGES.items():
        if next(_stored_files(alias), None) is not None:
            problems.append(f"the {prefix} storage is not empty")
    if problems:
        raise BackupError("restore needs an empty data directory: " + "; ".join(problems))


def restore(*, path: Path) -> dict:
    """Restore into this (empty) site; returns the manifest. Checks come afterwards."""
    manifest = verify(path)
    _check_empty_target()
    with zipfile.ZipFile(path) as archive:
        with tempfile.TemporaryDirectory() as work:
            if manifest["database"] == "sqlite":
                archive.extract("database.sqlite3", work)
                target = Path(connection.settings_dict["NAME"])
                target.parent.mkdir(parents=True, exist_ok=True)
                connections.close_all()
                shutil.copyfile(Path(work) / "database.sqlite3", target)
            else:
                archive.extract("database.pgdump", work)
                args, env = _pg_env()
                result = subprocess.run(
                    ["pg_restore", "--no-owner", "--exit-on-error", *args,
                     str(Path(work) / "database.pgdump")],
                    env=env, capture_output=True, text=True,
                )  # fmt: skip
                if result.returncode != 0:
                    raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        for name in manifest["files"]:
            top, _, rest = name.partition("/")
            alias = {prefix: alias for alias, prefix in ARCHIVED_STORAGES.items()}.get(top)
            if alias is None or not rest:
                continue
            parts = PurePosixPath(rest).parts
            if rest.startswith("/") or ".." in parts or "\\" in rest:
                raise BackupError(f"unsafe path in archive: {name}")
            with archive.open(name) as source:
                saved = storages[alias].save(rest, File(source, name=parts[-1]))
            if saved != rest:
                raise BackupError(f"{name} could not be restored under its own name")
    return manifest


def counts_now() -> dict[str, int]:
    return _counts()
