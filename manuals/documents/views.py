"""Bringing documents in (upload → preview → import) and taking manuals out (downloads)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from manuals.access import manual_for, owner_or_lead
from manuals.documents import jobs as import_jobs
from manuals.documents.archive import export_archive
from manuals.documents.docx_export import export_docx
from manuals.documents.forms import ImportDestinationForm, ImportUploadForm
from manuals.documents.markdown import export_markdown, pack_markdown
from manuals.documents.types import ImportRefused
from manuals.models import DocumentImport, Manual, Section, member_of

PREVIEW_OUTLINE_ROWS = 400


def _import_for(request: HttpRequest, import_id: int) -> DocumentImport:
    """Lookup + permission + 404: only the person who uploaded sees an import."""
    return get_object_or_404(
        DocumentImport.objects.of(request.user).select_related("manual"), pk=import_id
    )


def _destination_form(request: HttpRequest, job: DocumentImport, data=None):
    manuals = Manual.objects.writable_by(request.user).order_by("-updated_at")
    initial = {"title": job.title}
    preset = request.GET.get("target", "")
    if preset.isdigit():
        initial.update(destination="existing", target=f"s{preset}")
    return ImportDestinationForm(data, manuals=manuals, initial=initial)


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    if member_of(request.user) is None:
        raise Http404
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_jobs.start_upload(owner=request.user, upload=form.cleaned_data["document"])
        except ImportRefused as refused:
            form.add_error("document", str(refused))
        else:
            url = reverse("manuals:import_preview", args=[job.pk])
            target = request.GET.get("target", "")
            return redirect(url + (f"?target={target}" if target.isdigit() else ""))
    recent = DocumentImport.objects.of(request.user).select_related("manual")[:10]
    return render(request, "documents/upload.html", {"form": form, "recent": recent})


def _preview_context(request: HttpRequest, job: DocumentImport, form=None) -> dict:
    summary = job.summary or {}
    outline = summary.get("outline", [])
    if form is None and job.status == job.Status.READY:
        form = _destination_form(request, job)
    return {
        "job": job,
        "summary": summary,
        "outline": outline[:PREVIEW_OUTLINE_ROWS],
        "outline_more": max(0, len(outline) - PREVIEW_OUTLINE_ROWS),
        "form": form,
        "progress": import_jobs.read_progress(job),
        "background": import_jobs.runs_in_background(job),
    }


@login_required
def preview(request: HttpRequest, import_id: int) -> HttpResponse:
    job = import_jobs.fail_if_abandoned(_import_for(request, import_id))
    return render(request, "documents/preview.html", _preview_context(request, job))


@login_required
@require_POST
def confirm(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _import_for(request, import_id)
    if job.status != job.Status.READY:
        messages.error(request, _("这个导入已经开始或已经结束了。"))
        return redirect("manuals:import_preview", job.pk)
    form = _destination_form(request, job, request.POST)
    if not form.is_valid():
        context = _preview_context(request, job, form)
        return render(request, "documents/preview.html", context, status=400)
    target = None
    if form.cleaned_data.get("target_id"):
        target = get_object_or_404(
            Section.objects.filter(manual__in=Manual.objects.writable_by(request.user)),
            pk=form.cleaned_data["target_id"],
        )
    try:
        job = import_jobs.confirm(job=job, title=form.cleaned_data["title"], target=target)
    except ImportRefused as refused:
        messages.error(request, str(refused))
        return redirect("manuals:import_preview", job.pk)
    if job.status == job.Status.DONE:
        count = job.summary.get("sections", 0)
        messages.success(
            request,
            ngettext("已导入 %(n)d 个章节。", "已导入 %(n)d 个章节。", count) % {"n": count},
        )
        for warning in job.warnings:
            if warning not in job.summary.get("warnings", []):
                messages.warning(request, warning)
        if job.target_id:
            return redirect("manuals:section", job.manual_id, job.target_id)
        return redirect("manuals:manual", job.manual_id)
    return redirect("manuals:import_preview", job.pk)


@login_required
@require_POST
def cancel(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _import_for(request, import_id)
    try:
        import_jobs.cancel(job)
    except ImportRefused as refused:
        messages.error(request, str(refused))
        return redirect("manuals:import_preview", job.pk)
    messages.info(request, _("已取消导入，上传的文件已删除。"))
    return redirect("manuals:import_upload")


@login_required
def status(request: HttpRequest, import_id: int) -> JsonResponse:
    job = import_jobs.fail_if_abandoned(_import_for(request, import_id))
    progress = import_jobs.read_progress(job)
    if job.status == job.Status.DONE:
        progress["percent"] = 100
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "error": job.error,
            "manual_url": reverse("manuals:manual", args=[job.manual_id]) if job.manual_id else "",
            **progress,
        }
    )


# -- downloads ------------------------------------------------------------------------------
EXPORT_FORMATS = {
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "md": ("md", "text/markdown; charset=utf-8"),
    "archive": ("zip", "application/zip"),
}


@login_required
def export(request: HttpRequest, manual_id: int, fmt: str) -> HttpResponse:
    manual = manual_for(request, manual_id)
    if fmt not in EXPORT_FORMATS:
        raise Http404
    # A reader gets what they may read. The archive (trash, every version) is for whoever
    # reads the whole manual and manages it: its owner, or a lead for the team's template.
    reader = None if manual.readable_in_full_by(request.user) else request.user
    if fmt == "archive":
        if reader is not None or not owner_or_lead(request.user, manual):
            raise Http404
        data = export_archive(manual=manual)
    elif fmt == "docx":
        data = export_docx(manual=manual, user=reader)
    extension, content_type = EXPORT_FORMATS[fmt]
    if fmt == "md":
        text, files = export_markdown(manual=manual, user=reader)
        data = text.encode()
        if files:  # pictures travel with the text in a zip
            data, extension, content_type = pack_markdown(text, files), "zip", "application/zip"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        True, f"{manual.title}.{extension}"
    )
    return response
