"""Pages for team templates: day-one start, cloning, the lead's template overview and the
agent's template updates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from manuals.cloning import clone_template, start_my_manual
from manuals.models import Manual, member_of
from manuals.tree import TreeError


def _template_for(request: HttpRequest, template_id: int, *, curate: bool = False) -> Manual:
    """Lookup + permission + 404: a template of the user's team (``curate``: as its lead)."""
    manuals = Manual.objects.readable_by(request.user).filter(is_template=True)
    if curate:
        member = member_of(request.user)
        if member is None or not member.is_lead:
            raise Http404
    return get_object_or_404(manuals.select_related("team", "owner"), pk=template_id)


@login_required
@require_POST
def start_manual(request: HttpRequest) -> HttpResponse:
    """The new hire's one click: their own manual from the team template."""
    if member_of(request.user) is None:
        raise Http404
    existing = Manual.objects.filter(
        owner=request.user, is_template=False, archived_at__isnull=True
    ).first()
    if existing is not None and not request.POST.get("another"):
        # A double click or a second tab must not make two manuals.
        messages.info(request, _("你已经有自己的手册了。"))
        return redirect("manuals:manual", manual_id=existing.pk)
    try:
        manual = start_my_manual(user=request.user)
    except TreeError as error:
        messages.error(request, str(error))
        return redirect("manuals:home")
    messages.success(request, _("你的手册已创建，可以开始编辑了。"))
    return redirect("manuals:manual", manual_id=manual.pk)


@login_required
@require_POST
def clone(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _template_for(request, template_id)
    try:
        manual = clone_template(template=template, owner=request.user)
    except TreeError as error:
        messages.error(request, str(error))
        return redirect("manuals:home")
    messages.success(request, _("已从模板“%(title)s”创建你的手册。") % {"title": template.title})
    return redirect("manuals:manual", manual_id=manual.pk)
