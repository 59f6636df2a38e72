"""Pages for circulation and handover: copy a colleague's section into my manual, hand a
subtree over, transfer or archive a whole manual, and the activity log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from manuals.access import lead_of, manual_for, section_for
from manuals.circulation import handover
from manuals.circulation.copying import copy_into_my_manual
from manuals.circulation.forms import ArchiveForm, CopySectionForm, HandoverForm, TransferForm
from manuals.models import Activity, Manual, Section, nest
from manuals.tree import TreeError

# Templates are curated on their own pages, never handed over from.
HANDOVER_SOURCES = Manual.objects.filter(is_template=False)


def _destinations(user) -> list[tuple[Manual, list[tuple[Section, int]]]]:
    """Every manual the user may write, with its live outline (for the place picker)."""
    manuals = Manual.objects.writable_by(user).filter(is_template=False).order_by("-updated_at")
    return [(m, nest(m.outline())) for m in manuals]


@login_required
def copy_section(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    """Copy a colleague's shared section (with its subtree) to a place in my manual."""
    section = section_for(request, manual_id, section_id)
    destinations = _destinations(request.user)
    if request.method == "POST":
        form = CopySectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            target = Manual.objects.writable_by(request.user).filter(pk=data["manual"]).first()
            parent = None
            if target is not None and data["parent"]:
                parent = Section.objects.filter(manual=target, pk=data["parent"]).live().first()
            try:
                if target is None or (data["parent"] and parent is None):
                    raise TreeError(_("请选择你自己手册里的位置。"))
                rows = copy_into_my_manual(
                    source=section,
                    target_manual=target,
                    parent=parent,
                    user=request.user,
                    with_children=data["with_children"],
                )
            except TreeError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    ngettext(
                        "已把“%(title)s”（%(n)d 节）复制到你的手册，来源已记录。",
                        "已把“%(title)s”（%(n)d 节）复制到你的手册，来源已记录。",
                        len(rows),
                    )
                    % {"title": section.title, "n": len(rows)},
                )
                return redirect("manuals:section", manual_id=target.pk, section_id=rows[0].pk)
    children = Section.objects.subtree_of(section, include_self=False).live()
    context = {
        "section": section,
        "manual": section.manual,
        "destinations": destinations,
        "readable_children": children.readable_by(request.user).count(),
        # Whether anything stays behind, never how much (that count is not the reader's).
        "some_hidden": children.count() > children.readable_by(request.user).count(),
    }
    return render(request, "circulation/copy_section.html", context)


@login_required
def handover_page(request: HttpRequest, manual_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id, manage=True, among=HANDOVER_SOURCES)
    lead = lead_of(request.user, manual.team_id) is not None
    try:
        chosen = int(request.GET.get("section", "0"))
    except ValueError:
        chosen = 0
    context = {
        "manual": manual,
        # What the giver may hand over: everything for the owner, the lead's readable part.
        "outline": nest(
            manual.outline(user=None if manual.owner_id == request.user.pk else request.user)
        ),
        "chosen": chosen,
        "targets": handover.handover_targets(request.user, manual),
        "form": HandoverForm(),
        "is_lead": lead,
        "successors": handover.successors_for(manual, lead=request.user) if lead else [],
        "transfer_form": TransferForm(),
        "archive_form": ArchiveForm(),
        "log": readable_entries(
            request.user,
            Activity.objects.visible_to(request.user)
            .filter(from_manual=manual)
            .select_related("actor__member", "from_user__member", "to_user__member")[:20],
        ),
    }
    return render(request, "circulation/handover.html", context)


@login_required
@require_POST
def hand_over(request: HttpRequest, manual_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id, manage=True, among=HANDOVER_SOURCES)
    form = HandoverForm(request.POST)
    back = redirect("manuals:handover", manual_id=manual.pk)
    if not form.is_valid():
        messages.error(request, _("请选择要交接的章节和接收的同事。"))
        return back
    data = form.cleaned_data
    section = Section.objects.filter(manual=manual, pk=data["section"], level__gt=0).first()
    to_manual = Manual.objects.readable_by(request.user).filter(pk=data["to_manual"]).first()
    try:
        if section is None:
            raise TreeError(_("这一节不在这本手册里。"))
        if to_manual is None:
            raise TreeError(_("只能交接给本团队的同事。"))
        activity = handover.hand_over_subtree(
            section=section, to_manual=to_manual, mode=data["mode"], note=data["note"],
            user=request.user,
        )  # fmt: skip
    except TreeError as error:
        messages.error(request, str(error))
        return back
    messages.success(
        request,
        ngettext(
            "已把“%(title)s”（%(n)d 节）交给 %(name)s。",
            "已把“%(title)s”（%(n)d 节）交给 %(name)s。",
            activity.section_count,
        )
        % {"title": activity.title, "n": activity.section_count, "name": to_manual.owner.member},
    )
    return redirect("manuals:activity")


@login_required
@require_POST
def transfer(request: HttpRequest, manual_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id, manage=True, among=HANDOVER_SOURCES)
    form = TransferForm(request.POST)
    successor = None
    if form.is_valid():
        successor = get_user_model().objects.filter(pk=form.cleaned_data["successor"]).first()
    try:
        if successor is None:
            raise TreeError(_("请选择接手的同事。"))
        handover.transfer_manual(
            manual=manual, successor=successor, note=form.cleaned_data["note"],
            user=request.user, reopen=form.cleaned_data["reopen"],
        )  # fmt: skip
    except TreeError as error:
        messages.error(request, str(error))
        return redirect("manuals:handover", manual_id=manual.pk)
    names = {"title": manual.title, "name": successor.member}
    manual.refresh_from_db(fields=["archived_at"])
    if manual.archived_at is not None:
        messages.success(
            request,
            _("《%(title)s》已转交给 %(name)s，仍然归档（只读）；需要时可以取消归档。") % names,
        )
    else:
        messages.success(request, _("《%(title)s》已转交给 %(name)s。") % names)
    return redirect("manuals:activity")


@login_required
@require_POST
def archive(request: HttpRequest, manual_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id, manage=True, among=HANDOVER_SOURCES)
    form = ArchiveForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    archived = request.POST.get("archived", "1") == "1"
    try:
        handover.set_archived(manual=manual, archived=archived, note=note, user=request.user)
    except TreeError as error:
        messages.error(request, str(error))
        return redirect("manuals:handover", manual_id=manual.pk)
    if archived:
        messages.success(
            request, _("《%(title)s》已归档：只读保留，什么都没有删除。") % {"title": manual.title}
        )
    else:
        messages.success(request, _("《%(title)s》已取消归档。") % {"title": manual.title})
    return redirect("manuals:manual", manual_id=manual.pk)


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    entries = Activity.objects.visible_to(request.user).select_related(
        "actor__member", "from_user__member", "to_user__member", "from_manual", "to_manual"
    )[:200]
    return render(
        request, "circulation/activity.html", {"entries": readable_entries(request.user, entries)}
    )


def readable_entries(user, entries) -> list[Activity]:
    """Log entries with the title hidden where the viewer took no part and may read
    neither the section given nor the one received (a lead sees every entry of the team,
    but not the title of what two agents handed over as 仅自己). One query."""
    entries = list(entries)
    ids = {e.source_section_id for e in entries} | {e.new_section_id for e in entries}
    readable = set(
        Section.objects.readable_by(user).filter(pk__in=ids - {None}).values_list("pk", flat=True)
    )
    for entry in entries:
        party = user.pk in (entry.actor_id, entry.from_user_id, entry.to_user_id)
        if not party and not {entry.source_section_id, entry.new_section_id} & readable:
            entry.title = _("（一节你看不到的内容）")
    return entries
