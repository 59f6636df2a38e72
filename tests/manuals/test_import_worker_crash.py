"""Kill the imports worker mid-import: the job fails with a reason and leaves no file.

Before: the job stayed "running" for ever, cancel was refused, the upload and the picture
files written so far stayed on disk (named after a manual id SQLite later hands out again).
"""

import io
import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult
from docx import Document
from docx.shared import Inches
from PIL import Image as PILImage

from manuals.documents.jobs import confirm, read_progress, start_upload
from manuals.models import DocumentImport, Image, Manual
from tests.workers import start_worker, stop, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def picture_heavy_docx(pictures: int) -> bytes:
    document = Document()
    document.add_heading("截图汇总", 1)
    for n in range(pictures):
        noise = PILImage.frombytes("RGB", (1000, 1000), os.urandom(3_000_000))
        data = io.BytesIO()
        noise.save(data, "JPEG", quality=90)
        document.add_paragraph(f"第 {n} 张")
        document.add_picture(io.BytesIO(data.getvalue()), width=Inches(1))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def files_under(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def progress_of(job) -> dict:
    return read_progress(job)  # what the page shows (from the imports storage)


def test_killing_the_imports_worker_fails_the_job_and_removes_its_files(
    alice, tmp_path, media_root
):
    manuals_before = Manual.objects.count()
    upload = SimpleUploadedFile("截图汇总.docx", picture_heavy_docx(36))
    job = start_upload(owner=alice, upload=upload)  # over 2 MB: analysed by the worker
    worker = start_worker("imports", tmp=tmp_path / "tmp")
    try:
        wait_for(lambda: DocumentImport.objects.get(pk=job.pk).status == "ready", timeout=120,
                 message="the worker never analysed the upload")  # fmt: skip
        job.refresh_from_db()
        confirm(job=job, title="截图汇总", target=None)  # 36 pictures: imported by the worker
        wait_for(lambda: progress_of(job).get("done", 0) >= 3, timeout=120,
                 message="the worker never started storing pictures")  # fmt: skip
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        stop(worker)
    assert DocumentImport.objects.get(pk=job.pk).status == DocumentImport.Status.RUNNING
    assert any("/images/" in name for name in files_under(media_root))  # what it left
    second = start_worker("imports", tmp=tmp_path / "tmp")
    try:
        wait_for(lambda: DocumentImport.objects.get(pk=job.pk).status == "failed", timeout=60,
                 message="the dead worker's import was not failed")  # fmt: skip
    finally:
        stop(second)
    job.refresh_from_db()
    assert "后台进程停止" in job.error and not job.file
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()
    assert Manual.objects.count() == manuals_before and not Image.objects.exists()
    assert files_under(media_root) == []
    assert files_under(tmp_path / "tmp") == []
