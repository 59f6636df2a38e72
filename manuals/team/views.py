"""The lead's team dashboard and the casebook of excellent cases (优秀案例)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from manuals.access import lead_required, section_for
from manuals.models import Section, member_of
from manuals.team.casebook import CasebookError, casebook_for, mark_excellent, unmark_excellent
from manuals.team.dashboard import team_activity


@login_required
@lead_required
def team_dashboard(request: HttpRequest) -> HttpResponse:
    team = request.lead.team
    rows = team_activity(team=team)
    return render(request, "team/dashboard.html", {"team": team, "rows": rows})


@login_required
def casebook(request: HttpRequest) -> HttpResponse:
    member = member_of(request.user)
    if member is None:
        raise Http404
    kind = request.GET.get("kind", "")
    if kind not in Section.Kind.values:
        kind = ""
    cases = casebook_for(request.user, kind=kind)
    return render(
        request,
        "team/casebook.html",
        {"cases": cases, "kind": kind, "kinds": Section.Kind.choices, "is_lead": member.is_lead},
    )


@login_required
@require_POST
def mark_case(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    section = section_for(request, manual_id, section_id)
    try:
        if request.POST.get("action") == "unmark":
            unmark_excellent(section=section, user=request.user)
            messages.success(request, _("已从优秀案例中移除。"))
        else:
            mark_excellent(section=section, user=request.user, note=request.POST.get("note", ""))
            messages.success(request, _("已评为优秀案例。"))
    except CasebookError as error:
        messages.error(request, str(error))
    return redirect("manuals:section", manual_id=manual_id, section_id=section_id)
