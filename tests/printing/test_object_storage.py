"""Printing with the files in an object store (no local paths): pictures are copied from
storage into the print cache, the PDF is stored and streamed back from there."""

import os
import time

import pytest
from django.core.files.storage import storages
from django.urls import reverse

from manuals.images.pipeline import store_image
from printing.booklet import BookletOptions, assemble_booklet
from printing.jobs import request_edition, run_edition
from printing.models import Edition
from printing.print_images import print_images_dir, prune_print_copies
from tests.object_store import object_storages
from tests.printing.conftest import picture_bytes


@pytest.fixture(autouse=True)
def bucket(settings, tmp_path):
    settings.STORAGES = object_storages(tmp_path / "bucket")
    return tmp_path / "bucket"


def files_in(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_booklet_prints_the_pictures_of_an_object_store(alice, illustrated_manual, bucket):
    with pytest.raises(NotImplementedError):  # what the code must never need
        storages["default"].path(illustrated_manual.images.first().file.name)
    booklet = assemble_booklet(manual=illustrated_manual, options=BookletOptions(), user=alice)
    assert booklet.missing_images == 0 and booklet.cover_image is not None
    assert booklet.cover_image.is_relative_to(booklet.allowed_roots[-1])  # the copy
    assert all("/bucket/" not in str(root) for root in booklet.allowed_roots)


def test_the_pdf_goes_into_the_store_and_downloads_from_it(
    client, alice, illustrated_manual, bucket, print_dirs, django_capture_on_commit_callbacks
):
    edition, _ = request_edition(manual=illustrated_manual, user=alice, options=BookletOptions())
    assert run_edition(edition_id=edition.pk) == Edition.Status.DONE
    edition.refresh_from_db()
    stored = files_in(bucket / "editions")
    assert [p.relative_to(bucket / "editions").as_posix() for p in stored] == [edition.file.name]
    assert not files_in(print_dirs / "print-work")  # nothing left on the worker's disk

    client.force_login(alice)
    response = client.get(reverse("printing:download", args=[edition.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored[0].read_bytes()

    with django_capture_on_commit_callbacks(execute=True):
        Edition.objects.filter(pk=edition.pk).delete()
    assert files_in(bucket / "editions") == []


def test_a_styled_picture_is_made_from_the_stored_original(alice, illustrated_manual):
    photo = store_image(manual=illustrated_manual, data=picture_bytes(color=(10, 200, 10)),
                        original_name="绿.jpg")  # fmt: skip
    illustrated_manual.sections.filter(title="快捷回复").update(
        body=f'<p><img src="/images/{photo.pk}/" alt="绿"></p>'
    )
    options = BookletOptions(image_style="ink-wash", subtree_id=None)
    booklet = assemble_booklet(manual=illustrated_manual, options=options, user=alice)
    assert booklet.missing_images == 0
    assert any("-ink-wash.jpg" in c.html for c in booklet.chapters)


def test_print_copies_nobody_used_for_45_days_are_forgotten(alice, illustrated_manual):
    assemble_booklet(manual=illustrated_manual, options=BookletOptions(), user=alice)
    copies = sorted((print_images_dir() / str(illustrated_manual.pk)).iterdir())
    assert len(copies) == illustrated_manual.images.count()
    old = time.time() - 46 * 86400
    os.utime(copies[0], (old, old))
    assert prune_print_copies() == 1
    assert sorted(p for p in copies if p.exists()) == copies[1:]
    booklet = assemble_booklet(manual=illustrated_manual, options=BookletOptions(), user=alice)
    assert booklet.missing_images == 0 and copies[0].is_file()  # copied again from storage
