"""Backup drill: agents keep saving while `backup` runs; the archive restores into a new
data directory with every committed section, revision and picture, trees and index clean."""

import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile

import pytest
from django.db import connection
from PIL import Image as PILImage

from manuals.images.pipeline import store_image
from manuals.models import Revision, Section
from manuals.tree import EditConflict, SectionContent, save_section_content
from ops.backup import BackupError, backup, restore, verify
from tests.ops.stack import REPO

pytestmark = pytest.mark.django_db(transaction=True)


def photo(color) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (320, 200), color).save(out, "PNG")
    return out.getvalue()


def keep_saving(section_ids, user, stop, committed, errors):
    try:
        while not stop.is_set():
            for section_id in section_ids:
                section = Section.objects.get(pk=section_id)
                content = SectionContent(
                    title=section.title, body=f"<p>第 {section.version} 次</p>"
                )
                try:
                    saved = save_section_content(
                        section=section,
                        expected_version=section.version,
                        content=content,
                        user=user,
                    )
                except EditConflict:
                    continue
                committed.append((section_id, saved.version, time.monotonic()))
    except Exception as exc:  # surfaced by the test
        errors.append(exc)
    finally:
        connection.close()


def restore_into(data_dir, archive) -> subprocess.CompletedProcess:
    env = {**os.environ, "LANBITOU_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def editions_dir(settings, tmp_path):
    settings.EDITIONS_DIR = tmp_path / "editions"
    (settings.EDITIONS_DIR / "1").mkdir(parents=True)
    (settings.EDITIONS_DIR / "1" / "booklet.pdf").write_bytes(b"%PDF-1.7 a printed edition")
    return settings.EDITIONS_DIR


def test_a_backup_taken_while_agents_save_restores_everything_committed_before_it(
    alice, alice_manual, editions_dir, media_root, tmp_path
):
    pictures = [
        store_image(manual=alice_manual, data=photo(c), original_name=f"{c}.png", user=alice)
        for c in ("red", "blue")
    ]
    ids = list(alice_manual.sections.filter(level__gt=0).values_list("pk", flat=True))
    stop, committed, errors = threading.Event(), [], []
    writers = [
        threading.Thread(target=keep_saving, args=(ids[half::2], alice, stop, committed, errors))
        for half in (0, 1)
    ]
    for writer in writers:
        writer.start()
    time.sleep(1.0)
    started = time.monotonic()
    report = backup(output=tmp_path / "backups" / "site.zip")
    time.sleep(0.5)
    stop.set()
    for writer in writers:
        writer.join()
    assert errors == []
    before = [c for c in committed if c[2] < started]
    assert before and len(committed) > len(before), "writers were saving during the backup"

    result = restore_into(tmp_path / "restored", report.path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All trees are intact." in result.stdout
    assert "The search index matches the database." in result.stdout

    db = sqlite3.connect(tmp_path / "restored" / "lanbitou.sqlite3")
    versions = dict(db.execute("SELECT id, version FROM manuals_section"))
    for section_id, version, _at in before:
        assert versions[section_id] >= version  # no committed save lost
    for section_id in ids:  # the rows and their history from the same moment
        restored = [v for (v,) in db.execute(
            "SELECT version FROM manuals_revision WHERE section_id = ? ORDER BY version",
            (section_id,),
        )]  # fmt: skip
        live = Revision.objects.filter(section_id=section_id, version__lte=versions[section_id])
        assert restored == sorted(live.values_list("version", flat=True))
    assert (
        db.execute("SELECT COUNT(*) FROM manuals_revision").fetchone()[0]
        == (report.counts["revisions"])
    )
    for picture in pictures:
        for field in (picture.file, picture.thumbnail):
            copy = tmp_path / "restored" / "media" / field.name
            assert copy.read_bytes() == (media_root / field.name).read_bytes()
    pdf = tmp_path / "restored" / "editions" / "1" / "booklet.pdf"
    assert pdf.read_bytes() == b"%PDF-1.7 a printed edition"


def test_a_damaged_archive_is_refused(alice_manual, alice, editions_dir, tmp_path):
    store_image(manual=alice_manual, data=photo("red"), original_name="a.png", user=alice)
    good = backup(output=tmp_path / "good.zip").path
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("media/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            out.writestr(item, data)
    with pytest.raises(BackupError, match="checksum mismatch"):
        verify(damaged)
    result = restore_into(tmp_path / "restored", damaged)
    assert result.returncode != 0 and "checksum mismatch" in result.stderr
    assert not (tmp_path / "restored" / "lanbitou.sqlite3").exists()


def test_an_archive_from_a_newer_version_is_refused(alice_manual, editions_dir, tmp_path):
    good = backup(output=tmp_path / "good.zip").path
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(newer, "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["migrations"]["manuals"].append("0099_from_the_future")
                data = json.dumps(manifest).encode()
            out.writestr(item, data)
    with pytest.raises(BackupError, match="newer version"):
        verify(newer)


def test_a_file_that_is_no_backup_is_refused(tmp_path, db):
    (tmp_path / "notes.zip").write_bytes(b"not a zip at all")
    with pytest.raises(BackupError, match="cannot read"):
        verify(tmp_path / "notes.zip")


def test_restore_refuses_a_data_directory_in_use(alice_manual, editions_dir, tmp_path):
    archive = backup(output=tmp_path / "site.zip").path
    with pytest.raises(BackupError, match="empty data directory"):
        restore(path=archive)  # this test's own database is there


def test_files_in_an_object_store_are_backed_up_and_restore_into_a_shared_directory(
    settings, alice, alice_manual, tmp_path
):
    from tests.object_store import object_storages

    settings.STORAGES = object_storages(tmp_path / "bucket")
    picture = store_image(manual=alice_manual, data=photo("green"), original_name="g.png")
    (tmp_path / "bucket" / "editions" / "7").mkdir(parents=True)
    (tmp_path / "bucket" / "editions" / "7" / "edition-3-20261201.pdf").write_bytes(b"%PDF-x")
    report = backup(output=tmp_path / "site.zip")
    with zipfile.ZipFile(report.path) as archive:
        names = set(archive.namelist())
        assert {f"media/{picture.file.name}", f"media/{picture.thumbnail.name}",
                "editions/7/edition-3-20261201.pdf"} <= names  # fmt: skip
        with picture.file.open("rb") as stored:
            assert archive.read(f"media/{picture.file.name}") == stored.read()

    shared = tmp_path / "shared"
    env = {**os.environ, "LANBITOU_DATA_DIR": str(tmp_path / "restored"),
           "LANBITOU_FILES_DIR": str(shared)}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "manage.py", "restore", str(report.path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (shared / "media" / picture.file.name).is_file()
    assert (shared / "editions" / "7" / "edition-3-20261201.pdf").read_bytes() == b"%PDF-x"
    assert not (tmp_path / "restored" / "media").exists()
