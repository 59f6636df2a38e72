from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from manuals.access import lead_required, manual_for
from printing.booklet import PrintError
from printing.forms import PrintForm, ScheduleForm
from printing.jobs import may_print_everything, request_edition
from printing.models import Edition, PrintSchedule


def _edition_for(request, edition_id: int) -> Edition:
    """An edition the user may see (Edition.objects.readable_by), else 404."""
    return get_object_or_404(
        Edition.objects.readable_by(request.user).select_related("manual"), pk=edition_id
    )


def edition_summary(edition: Edition) -> str:
    """ "12 pages · 1.2 MB", as the edition pages show it."""
    n = edition.page_count
    pages = ngettext("%(n)s 页", "%(n)s 页", n) % {"n": n}
    return f"{pages} · {filesizeformat(edition.size_bytes)}"


def edition_json(edition: Edition) -> dict:
    return {
        "id": edition.pk,
        "status": edition.status,
        "status_label": edition.get_status_display(),
        "progress": edition.progress,
        "note": edition.progress_note,
        "reason": edition.failure_reason,
        "page_count": edition.page_count,
        "size_bytes": edition.size_bytes,
        "summary": edition_summary(edition) if edition.status == Edition.Status.DONE else "",
        "download_url": reverse("printing:download", args=[edition.pk])
        if edition.status == Edition.Status.DONE
        else "",
    }


@login_required
@require_http_methods(["GET", "POST"])
def request_print(request, manual_id: int):
    manual = manual_for(request, manual_id)
    can_print_all = may_print_everything(manual, request.user)
    outline = manual.outline(user=request.user)
    form = PrintForm(request.POST or None, outline=outline, can_print_all=can_print_all)
    if request.method == "POST" and form.is_valid():
        try:
            edition, created = request_edition(
                manual=manual, user=request.user, options=form.options()
            )
        except PrintError as error:
            form.add_error(None, str(error))
        else:
            if not created:
                messages.info(request, _("同样的印刷版已经在生成中，不会重复排队。"))
            return redirect("printing:edition", edition_id=edition.pk)
    editions = Edition.objects.readable_by(request.user).filter(manual=manual)[:50]
    return render(
        request,
        "printing/request.html",
        {"manual": manual, "form": form, "editions": editions, "can_print_all": can_print_all},
    )


@login_required
@require_GET
def edition_detail(request, edition_id: int):
    edition = _edition_for(request, edition_id)
    return render(request, "printing/edition.html", {"edition": edition})


@login_required
@require_GET
def edition_status(request, edition_id: int):
    return JsonResponse(edition_json(_edition_for(request, edition_id)))


@login_required
@require_POST
def retry_edition(request, edition_id: int):
    """Print a failed edition again, with the same choices."""
    edition = _edition_for(request, edition_id)
    manual = manual_for(request, edition.manual_id)
    try:
        again, _created = request_edition(
            manual=manual, user=request.user, options=edition.options()
        )
    except PrintError as error:
        messages.error(request, str(error))
        return redirect("printing:edition", edition_id=edition.pk)
    return redirect("printing:edition", edition_id=again.pk)


@login_required
@require_GET
def download(request, edition_id: int):
    edition = _edition_for(request, edition_id)
    if edition.status != Edition.Status.DONE or not edition.file:
        raise Http404(_("这份印刷版还没有生成。"))
    try:
        # Streamed from the editions storage (a shared directory, a bucket): any node serves it.
        handle = edition.file.storage.open(edition.file.name, "rb")
    except OSError:  # FileNotFoundError, or a storage that cannot be reached
        raise Http404(_("文件已不存在。")) from None
    name = f"{edition.title or edition.manual.title}-{edition.created_at:%Y%m%d}.pdf"
    return FileResponse(handle, as_attachment=True, filename=name,
                        content_type="application/pdf")  # fmt: skip


@login_required
@require_GET
def archive(request):
    editions = Edition.objects.readable_by(request.user).select_related("manual__owner")[:200]
    return render(request, "printing/archive.html", {"editions": editions})


@login_required
@require_http_methods(["GET", "POST"])
@lead_required
def schedule(request):
    member = request.lead
    current = PrintSchedule.objects.filter(team=member.team).first()
    first_run = timezone.localtime().replace(second=0, microsecond=0)
    form = ScheduleForm(
        request.POST or None,
        instance=current,
        initial=None if current else {"next_run_at": first_run},
    )
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        if current is None or "next_run_at" in form.changed_data:
            saved.run_next_at(saved.next_run_at)
        saved.team = member.team
        saved.created_by = saved.created_by or request.user
        saved.save()
        messages.success(request, _("定期打印已保存。"))
        return redirect("printing:schedule")
    return render(request, "printing/schedule.html", {"form": form, "schedule": current})
