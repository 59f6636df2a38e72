"""Kill the web process while it imports a small upload inside the request: the job ends
failed with a reason and leaves no file, like an import whose worker died
(tests/manuals/test_import_worker_crash.py).

Before: small uploads are analysed and imported in the request, with no task row, so the
recovery of dead workers never saw them: the job stayed "running" for ever (cancel refused)
and the upload and the picture files written so far stayed on disk.
"""

import io
import json
import subprocess
import sys

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from docx import Document
from docx.shared import Inches
from PIL import Image as PILImage
from PIL import ImageDraw

from manuals.documents.jobs import recover_abandoned_imports
from manuals.models import DocumentImport, Image, Manual
from manuals.workers import current_worker_id
from tests.manuals.test_import_worker_crash import files_under, progress_of
from tests.workers import REPO, environment_for, start_worker, stop, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def line_drawing(n: int) -> bytes:
    """A large PNG that compresses well: a small upload that takes a while to import."""
    img = PILImage.new("RGB", (2400, 2400), (250, 250, 245))
    draw = ImageDraw.Draw(img)
    for k in range(12):
        draw.line([(0, k * 200 + n), (2400, 2400 - k * 200)], fill=(20 * k, 90, 160), width=3)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def small_picture_docx(pictures: int) -> bytes:
    document = Document()
    document.add_heading("截图汇总", 1)
    for n in range(pictures):
        document.add_paragraph(f"第 {n} 张")
        document.add_picture(io.BytesIO(line_drawing(n)), width=Inches(1))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_killing_the_web_process_mid_import_fails_the_job_and_removes_its_files(
    alice, tmp_path, media_root
):
    manuals_before = Manual.objects.count()
    upload = tmp_path / "截图汇总.docx"
    upload.write_bytes(small_picture_docx(8))  # under 2 MB and 30 pictures: in the request
    web = subprocess.Popen(
        [sys.executable, "-m", "tests.manuals.request_import_process", "alice", str(upload)],
        cwd=REPO, env=environment_for(tmp=tmp_path / "tmp"), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        started = json.loads(web.stdout.readline() or "{}")
        assert started.get("status") == "ready", web.stderr.read()
        job = DocumentImport.objects.get(pk=started["job"])
        wait_for(lambda: progress_of(job).get("done", 0) >= 2, timeout=120,
                 message="the request never started storing pictures")  # fmt: skip
        web.kill()
        web.wait()
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()
    assert DocumentImport.objects.get(pk=job.pk).status == DocumentImport.Status.RUNNING
    assert any("/images/" in name for name in files_under(media_root))  # what it left
    worker = start_worker("imports", tmp=tmp_path / "tmp")  # it recovers when it starts
    try:
        wait_for(lambda: DocumentImport.objects.get(pk=job.pk).status == "failed", timeout=60,
                 message="the dead request's import was not failed")  # fmt: skip
    finally:
        stop(worker)
    job.refresh_from_db()
    assert "网页进程停止" in job.error and not job.file
    assert Manual.objects.count() == manuals_before and not Image.objects.exists()
    assert files_under(media_root) == []
    assert files_under(tmp_path / "tmp") == []


def a_dead_process_id(tmp) -> str:
    """The worker id (host:pid:start) of a process that has exited."""
    code = "import django; django.setup(); from manuals.workers import current_worker_id; "
    done = subprocess.run(
        [sys.executable, "-c", code + "print(current_worker_id())"], cwd=REPO,
        env=environment_for(tmp=tmp), capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_an_analysis_whose_web_process_died_is_failed_and_its_upload_removed(alice, tmp_path):
    job = DocumentImport(owner=alice, original_name="a.md", size_bytes=5,
                         runner=a_dead_process_id(tmp_path))  # fmt: skip
    job.file.save("upload.md", ContentFile(b"# a\n"), save=False)
    job.save()
    assert recover_abandoned_imports() == 1
    job.refresh_from_db()
    assert job.status == DocumentImport.Status.FAILED and "网页进程停止" in job.error
    assert not job.file


def test_an_import_running_in_a_live_request_is_left_alone(alice):
    job = DocumentImport.objects.create(
        owner=alice, original_name="a.md", status=DocumentImport.Status.RUNNING,
        runner=current_worker_id(),
    )  # fmt: skip
    assert recover_abandoned_imports() == 0
    job.refresh_from_db()
    assert job.status == DocumentImport.Status.RUNNING


def test_an_import_killed_after_its_commit_is_done_and_its_upload_removed(alice, tmp_path):
    """The job's "done" commits with the manual; only the upload was still to remove."""
    job = DocumentImport(
        owner=alice, original_name="a.md", size_bytes=5, status=DocumentImport.Status.DONE,
        runner=a_dead_process_id(tmp_path),
    )  # fmt: skip
    job.file.save("upload.md", ContentFile(b"# a\n"), save=False)
    job.save()
    assert recover_abandoned_imports() == 0
    job.refresh_from_db()
    assert job.status == DocumentImport.Status.DONE and not job.file


def test_the_owner_sees_an_import_whose_request_died_as_failed_at_once(client, alice, tmp_path):
    """Without waiting for the workers' next round (or when no worker runs)."""
    job = DocumentImport(
        owner=alice, original_name="a.md", size_bytes=5, status=DocumentImport.Status.RUNNING,
        runner=a_dead_process_id(tmp_path),
    )  # fmt: skip
    job.file.save("upload.md", ContentFile(b"# a\n"), save=False)
    job.save()
    client.force_login(alice)
    answer = client.get(reverse("manuals:import_status", args=[job.pk])).json()
    assert answer["status"] == "failed" and "网页进程停止" in answer["error"]
    page = client.get(reverse("manuals:import_preview", args=[job.pk])).content.decode()
    assert "网页进程停止" in page
    job.refresh_from_db()
    assert not job.file
