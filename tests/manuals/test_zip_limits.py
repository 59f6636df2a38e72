"""Zips (Markdown, archives, .docx) cannot expand without bound, least of all in a request.

Before: a 0.5 MB Markdown zip of 50 members of 10 MB each was expanded inside the request
(+500 MB), and members under 10 MB skipped the compression-ratio check.
"""

import random
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from manuals.documents.importing import read_document
from manuals.documents.jobs import start_upload
from manuals.documents.types import ImportRefused
from manuals.models import DocumentImport


def markdown_zip(path, members: dict[str, bytes], text: str):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("手册.md", text)
        for name, data in members.items():
            package.writestr(name, data)
    return path


def test_a_zip_of_highly_compressed_members_is_refused_without_expanding_it(tmp_path):
    members = {f"img/{n}.png": bytes(10 * 1024 * 1024) for n in range(50)}
    text = "# 截图\n\n" + "\n".join(f"![]({name})" for name in members)
    path = markdown_zip(tmp_path / "bomb.zip", members, text)
    assert path.stat().st_size < 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(ImportRefused, match="压缩炸弹"):
            read_document(path, name="bomb.zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_every_member_is_ratio_checked_not_only_the_big_ones(tmp_path):
    # 5 MB that compress 1000:1, under the old 10 MB threshold.
    path = markdown_zip(tmp_path / "m.zip", {"a.png": bytes(5 * 1024 * 1024)}, "# 一\n\n![](a.png)")
    with pytest.raises(ImportRefused, match="压缩炸弹"):
        read_document(path, name="m.zip")


def test_pictures_beyond_the_total_expansion_limit_are_not_read(tmp_path, settings, monkeypatch):
    from manuals.documents import markdown

    monkeypatch.setattr(markdown, "MAX_ZIP_EXPANDED_BYTES", 3 * 1024 * 1024)
    rng = random.Random(3)
    members = {f"{n}.png": rng.randbytes(1024 * 1024) for n in range(5)}
    text = "# 图\n\n" + "\n".join(f"![]({name})" for name in members)
    parsed = read_document(markdown_zip(tmp_path / "p.zip", members, text), name="p.zip")
    assert len(parsed.images) == 3
    assert any("没有导入" in warning for warning in parsed.warnings)


def test_a_small_upload_that_expands_a_lot_is_analysed_by_the_worker(alice, tmp_path):
    rng = random.Random(5)
    words = ["退款进度。", "物流单号。", "客户情绪。", "回访时间。"]
    text = "# 长文\n\n" + "".join(rng.choice(words) for _ in range(1_600_000))
    path = markdown_zip(tmp_path / "long.zip", {}, text)
    assert path.stat().st_size < 2 * 1024 * 1024  # small enough to be analysed inline before
    upload = SimpleUploadedFile("long.zip", path.read_bytes())
    job = start_upload(owner=alice, upload=upload)
    assert job.status == DocumentImport.Status.ANALYSING
