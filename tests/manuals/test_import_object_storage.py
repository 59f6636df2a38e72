"""Imports with the files in an object store (no local paths): the upload is analysed from
a temporary copy, the progress is read from the store by whichever node serves the page,
and nothing of the import stays there once it is done."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from manuals.documents import jobs as import_jobs
from manuals.documents import progress
from manuals.models import Manual
from tests.manuals.documents import outline_of, pandoc_docx, png_bytes
from tests.manuals.test_import_views import DOC, DOCX, run_worker, upload
from tests.object_store import object_storages


@pytest.fixture(autouse=True)
def bucket(settings, tmp_path):
    settings.STORAGES = object_storages(tmp_path / "bucket")
    return tmp_path / "bucket"


@pytest.fixture
def word_file(tmp_path):
    (tmp_path / "a.png").write_bytes(png_bytes())
    path = pandoc_docx(tmp_path, DOC, name="售后流程.md")
    return SimpleUploadedFile("售后流程.docx", path.read_bytes(), content_type=DOCX)


def files_in(folder) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_document_imports_from_an_object_store(client, alice, word_file, bucket):
    client.force_login(alice)
    job = upload(client, word_file)
    assert [name for name in files_in(bucket) if name.startswith("media/imports/")]
    page = client.get(reverse("manuals:import_preview", args=[job.pk])).content.decode()
    assert 'id="summary-sections">4<' in page and 'id="summary-images">1<' in page
    client.post(reverse("manuals:import_confirm", args=[job.pk]), {"destination": "new"})
    manual = Manual.objects.get(owner=alice, title__contains="售后流程")
    assert outline_of(manual)[0] == (1, "第一章") and manual.images.count() == 1
    picture = manual.images.get()
    assert files_in(bucket) == sorted([f"media/{picture.file.name}",
                                       f"media/{picture.thumbnail.name}"])  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_background_progress_is_read_from_the_store(client, alice, word_file, monkeypatch):
    monkeypatch.setattr(import_jobs, "INLINE_ANALYSE_BYTES", 1000)
    client.force_login(alice)
    job = upload(client, word_file)
    run_worker()
    client.post(reverse("manuals:import_confirm", args=[job.pk]), {"destination": "new"})
    status = client.get(reverse("manuals:import_status", args=[job.pk])).json()
    assert status["status"] == "queued" and status["percent"] == 0

    # What the worker writes once the pictures are stored, as another node's page reads it.
    progress.write_progress(job.pk, "sections", 0, 4)
    status = client.get(reverse("manuals:import_status", args=[job.pk])).json()
    assert status["percent"] == 90 and status["label"] == "正在写入章节"

    run_worker()
    status = client.get(reverse("manuals:import_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["percent"] == 100


def test_progress_readers_never_see_a_half_written_snapshot(alice, bucket, monkeypatch):
    monkeypatch.setattr(progress, "WRITE_EVERY", 0)  # every write lands
    stop = threading.Event()
    seen: list[dict] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(progress.read_progress(41))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for done in range(1, 200):
            progress.write_progress(41, "sections", done, 200)
    finally:
        stop.set()
        reader.join()
    progress.write_progress(41, "sections", 200, 200)
    assert progress.read_progress(41) == {"phase": "sections", "done": 200, "total": 200}
    phases = [s["phase"] for s in seen]
    first = phases.index("sections")
    assert set(phases[:first]) <= {""} and set(phases[first:]) == {"sections"}
    done = [s["done"] for s in seen[first:]]
    assert done == sorted(done) and len(set(done)) > 1  # forwards only, never back to 0
    progress.forget(41)
    assert files_in(bucket) == []
