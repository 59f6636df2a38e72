"""Uploads on their way into a manual: analyse → preview → import (or cancel).

Small files are analysed and imported during the request; large ones go to the background
worker (queue "imports"), which writes its progress into the "imports" storage beside the
upload (manuals/documents/progress.py), where a page on any node reads it. A job run in the
request names the web process running it (``runner``), so that the workers' recovery fails
it if that process dies mid-way, as it does for a job whose worker died.
"""

from __future__ import annotations

import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from manuals.documents import progress as import_progress
from manuals.documents.importing import import_document, read_document
from manuals.documents.types import ImportRefused
from manuals.models import DocumentImport, Image, Section
from manuals.storage import local_file, pictures_storage
from manuals.workers import (
    abandoned_tasks,
    close_abandoned_task,
    current_worker_id,
    task_argument,
    worker_alive,
)

# Above these an upload is analysed / imported by the background worker.
INLINE_ANALYSE_BYTES = getattr(settings, "LANBITOU_INLINE_ANALYSE_BYTES", 2 * 1024 * 1024)
INLINE_IMPORT_SECTIONS = getattr(settings, "LANBITOU_INLINE_IMPORT_SECTIONS", 300)
# Each picture is decoded, checked and resized: 28 large ones took 19 s in a request.
INLINE_IMPORT_IMAGES = getattr(settings, "LANBITOU_INLINE_IMPORT_IMAGES", 8)
# A small zip (archive, Markdown + pictures, .docx) may unpack to far more: judged by that.
INLINE_ANALYSE_EXPANDED_BYTES = getattr(
    settings, "LANBITOU_INLINE_ANALYSE_EXPANDED_BYTES", 16 * 1024 * 1024
)
ABANDONED_AFTER = timedelta(days=1)
# A task claimed by a worker we cannot see (another machine) is given up after this long.
ABANDONED_TASK_AFTER = timedelta(hours=2)
UNFINISHED = [DocumentImport.Status.ANALYSING, DocumentImport.Status.QUEUED,
              DocumentImport.Status.RUNNING]  # fmt: skip
PHASES = {"analyse": _("正在分析文档"), "images": _("正在处理图片"),
          "sections": _("正在写入章节")}  # fmt: skip


def _remove_uncommitted_files(job: DocumentImport) -> None:
    """Journaled files no committed picture row points at: an import that rolled back or
    whose worker was killed before it could remove them."""
    names = import_progress.journaled_files(job.pk)
    kept = set(Image.objects.filter(file__in=names).values_list("file", flat=True))
    kept |= set(Image.objects.filter(thumbnail__in=names).values_list("thumbnail", flat=True))
    storage = pictures_storage()
    for name in names - kept:
        try:
            storage.delete(name)
        except OSError:
            pass


def read_progress(job: DocumentImport) -> dict:
    """Where a background import is, for the page that polls it (on any node)."""
    progress = import_progress.read_progress(job.pk)
    progress["label"] = str(PHASES.get(progress.get("phase", ""), ""))
    total = progress.get("total") or 0
    # Pictures take most of the time; sections are written in one go at the end.
    if progress.get("phase") == "images" and total:
        progress["percent"] = int(90 * progress["done"] / total)
    elif progress.get("phase") == "sections":
        progress["percent"] = 90 if progress["done"] < total else 100
    else:
        progress["percent"] = 0
    return progress


def start_upload(*, owner, upload: UploadedFile) -> DocumentImport:
    """Keep the uploaded file and analyse it now, or in the background if it is large."""
    max_bytes = settings.LANBITOU_MAX_UPLOAD_BYTES
    if upload.size > max_bytes:
        raise ImportRefused(
            _("文件太大：最大 %(max)d MB，这个文件有 %(size).1f MB。")
            % {"max": max_bytes // (1024 * 1024), "size": upload.size / (1024 * 1024)}
        )
    if upload.size == 0:
        raise ImportRefused(_("文件是空的，请重新选择。"))
    _forget_abandoned(owner)
    name = Path(upload.name or "document").name[-200:]
    job = DocumentImport(owner=owner, original_name=name, size_bytes=upload.size)
    suffix = Path(name).suffix.lower()[:10]
    job.file.save(f"upload{suffix}", upload, save=False)
    large = _large(job)
    if not large:
        job.runner, job.runner_since = current_worker_id(), timezone.now()
    job.save()
    if not large:
        analyse(job)
    else:
        transaction.on_commit(lambda: analyse_task.enqueue(job.pk))
    return job


def _forget_abandoned(owner) -> None:
    """Uploads previewed but never imported keep no file for longer than a day."""
    stale = DocumentImport.objects.filter(
        owner=owner,
        status__in=[DocumentImport.Status.ANALYSING, DocumentImport.Status.READY],
        created_at__lt=timezone.now() - ABANDONED_AFTER,
    )
    for job in stale:
        DocumentImport.objects.filter(pk=job.pk).update(
            status=DocumentImport.Status.CANCELLED, finished_at=timezone.now()
        )
        _discard_file(job)


def analyse(job: DocumentImport) -> DocumentImport:
    try:
        if not job.file:
            raise FileNotFoundError("no upload")
        parsed = _read(job)
    except ImportRefused as refused:
        return _fail(job, str(refused))
    except OSError:
        return _fail(job, _("上传的文件已不在了（可能已取消），请重新上传。"))
    parsed.precheck_images()
    summary = parsed.summary()
    # Only an upload still waiting for its analysis moves on (it may have been cancelled).
    DocumentImport.objects.filter(pk=job.pk, status=DocumentImport.Status.ANALYSING).update(
        summary=summary, title=summary["title"][:200], status=DocumentImport.Status.READY
    )
    job.refresh_from_db()
    return job


def _fail(job: DocumentImport, message: str) -> DocumentImport:
    # Files first: a process stopped in between leaves the job unfinished, and the
    # recovery tries again, rather than a failed job whose files nobody removes.
    _discard_file(job)
    job.status = DocumentImport.Status.FAILED
    job.error = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    return job


def _discard_file(job: DocumentImport) -> None:
    if job.file:
        job.file.delete(save=False)
        DocumentImport.objects.filter(pk=job.pk).update(file="")
    _remove_uncommitted_files(job)
    import_progress.forget(job.pk)


def _read(job: DocumentImport):
    with local_file(job.file.storage, job.file.name) as path:
        return read_document(path, name=job.original_name)


def expanded_bytes(path: Path) -> int:
    """What a zip unpacks to (its declared sizes, which zipfile holds it to); else 0."""
    try:
        if not zipfile.is_zipfile(path):
            return 0
        with zipfile.ZipFile(path) as package:
            return sum(info.file_size for info in package.infolist())
    except (OSError, zipfile.BadZipFile):
        return 0  # the analysis explains what is wrong with it


def _large(job: DocumentImport) -> bool:
    if job.size_bytes > INLINE_ANALYSE_BYTES:
        return True
    if not job.file:
        return False
    try:
        with local_file(job.file.storage, job.file.name) as path:
            return expanded_bytes(path) > INLINE_ANALYSE_EXPANDED_BYTES
    except OSError:
        return False  # the analysis says the upload is gone


def runs_in_background(job: DocumentImport) -> bool:
    summary = job.summary or {}
    return (
        _large(job)
        or summary.get("sections", 0) > INLINE_IMPORT_SECTIONS
        or summary.get("images", 0) > INLINE_IMPORT_IMAGES
    )


def confirm(*, job: DocumentImport, title: str, target: Section | None) -> DocumentImport:
    """The user chose where the document goes: import now or queue it."""
    background = runs_in_background(job)
    updated = DocumentImport.objects.filter(pk=job.pk, status=DocumentImport.Status.READY).update(
        status=DocumentImport.Status.QUEUED, title=title[:200], target=target,
        runner="" if background else current_worker_id(), runner_since=timezone.now(),
    )  # fmt: skip
    if not updated:
        raise ImportRefused(_("这个导入已经开始或已经结束了。"))
    job.refresh_from_db()
    if background:
        import_progress.write_progress(job.pk, "images", 0, job.summary.get("images", 0))
        transaction.on_commit(lambda: import_task.enqueue(job.pk))
        return job
    return run(job)


def run(job: DocumentImport) -> DocumentImport:
    if job.status != DocumentImport.Status.QUEUED:
        return job
    DocumentImport.objects.filter(pk=job.pk).update(status=DocumentImport.Status.RUNNING)
    try:
        parsed = _read(job)
        import_document(
            parsed=parsed,
            owner=job.owner,
            title=job.title or None,
            target=job.target,
            progress=lambda phase, done, total: import_progress.write_progress(
                job.pk, phase, done, total
            ),
            written=lambda names: import_progress.journal_files(job.pk, names),
            # Done commits with the manual: a process killed just after the commit leaves
            # no RUNNING job for the recovery to call "nothing imported".
            finishing=lambda manual: _mark_done(job, manual=manual, warnings=parsed.warnings),
        )
    except ImportRefused as refused:
        return _fail(job, str(refused))
    except Exception:
        _fail(job, _("导入时发生意外错误，什么都没有导入。请稍后再试，或把文档发给管理员检查。"))
        raise
    job.refresh_from_db()
    _discard_file(job)
    return job


def _mark_done(job: DocumentImport, *, manual, warnings: list[str]) -> None:
    DocumentImport.objects.filter(pk=job.pk).update(
        status=DocumentImport.Status.DONE, manual=manual, warnings=warnings,
        finished_at=timezone.now(),
    )  # fmt: skip


def cancel(job: DocumentImport) -> None:
    updated = DocumentImport.objects.filter(
        pk=job.pk, status__in=[DocumentImport.Status.ANALYSING, DocumentImport.Status.READY]
    ).update(status=DocumentImport.Status.CANCELLED, finished_at=timezone.now())
    if not updated:
        raise ImportRefused(_("导入已经开始，不能再取消了。"))
    _discard_file(job)


@task(queue_name="imports")
def analyse_task(job_id: int) -> None:
    job = DocumentImport.objects.filter(pk=job_id, status=DocumentImport.Status.ANALYSING).first()
    if job is not None:
        analyse(job)


@task(queue_name="imports")
def import_task(job_id: int) -> None:
    job = DocumentImport.objects.filter(pk=job_id).first()
    if job is not None:
        run(job)


def recover_abandoned_imports() -> int:
    """Imports whose worker died are failed with the reason, their task closed, and the
    upload and every picture file they wrote removed (nothing of them was committed)."""
    recovered = 0
    rows = abandoned_tasks(
        task_paths=[analyse_task.module_path, import_task.module_path],
        older_than=ABANDONED_TASK_AFTER,
    )
    for row in rows:
        close_abandoned_task(row, reason="The imports worker stopped while running this task.")
        job = DocumentImport.objects.filter(pk=task_argument(row)).first()
        if job is not None and job.status == DocumentImport.Status.DONE:
            _discard_file(job)  # killed between the import's commit and its clean-up
        if job is None or job.status not in UNFINISHED:
            continue
        _fail(job, _("导入中途后台进程停止了，什么都没有导入。请重新上传文档再试一次。"))
        recovered += 1
    return recovered + _recover_abandoned_requests()


def _runner_gone(job: DocumentImport) -> bool:
    """The web process running ``job`` in its request has died (a deploy, the OOM killer,
    the server's worker timeout). One on another host counts as gone after
    ABANDONED_TASK_AFTER."""
    if not job.runner:
        return False
    alive = worker_alive(job.runner)
    old = job.runner_since is None or job.runner_since < timezone.now() - ABANDONED_TASK_AFTER
    return alive is False or (alive is None and old)


def _fail_abandoned_request(job: DocumentImport) -> DocumentImport:
    return _fail(job, _("导入中途网页进程停止了，什么都没有导入。请重新上传文档再试一次。"))


def fail_if_abandoned(job: DocumentImport) -> DocumentImport:
    """What its owner's page shows: a job whose request died is failed right away, not at
    the workers' next round."""
    if job.status in UNFINISHED and _runner_gone(job):
        _fail_abandoned_request(job)
        job.refresh_from_db()
    return job


def _recover_abandoned_requests() -> int:
    """Jobs analysed or imported inside a web request whose process died: no task row
    tells of them, their runner does."""
    recovered = 0
    left = Q(status__in=UNFINISHED) | (Q(status=DocumentImport.Status.DONE) & ~Q(file=""))
    for job in DocumentImport.objects.filter(left).exclude(runner=""):
        if not _runner_gone(job):
            continue
        if job.status == DocumentImport.Status.DONE:
            _discard_file(job)  # killed between the import's commit and its clean-up
        else:
            _fail_abandoned_request(job)
            recovered += 1
    return recovered
