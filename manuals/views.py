from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from manuals import tree
from manuals.access import lead_of, manual_for, section_for
from manuals.bulk import create_blank_manual
from manuals.diff import diff_sections
from manuals.document import Chunk, chunk_of, neighbours
from manuals.forms import MoveForm, NewSectionForm, SectionForm
from manuals.models import ExcellentCase, Manual, Revision, Section, member_of
from manuals.outline import breadcrumbs, render_outline, render_outline_branch
from manuals.sanitize import sanitize_html

SHIFT_BUTTONS = [
    ("up", _lazy("上移"), "↑"),
    ("down", _lazy("下移"), "↓"),
    ("outdent", _lazy("升级（左移）"), "←"),
    ("indent", _lazy("降级（右移）"), "→"),
]


def _is_ajax(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _manual_context(request: HttpRequest, manual: Manual, current: Section | None) -> dict:
    editable = manual.can_write(request.user)
    outline = manual.outline(user=None if editable else request.user)
    return {
        "manual": manual,
        "editable": editable,
        "outline_html": render_outline(
            manual, outline, current_id=current.pk if current else None, editable=editable
        ),
        "outline": outline,
        "outline_count": len(outline),
        "chapters": [s for s in outline if s.level == 1],
        "breadcrumbs": breadcrumbs(current, outline) if current else [],
        "section": current,
        # A child starts as its parent's kind (a rule's sub-point is a rule too).
        "new_form": NewSectionForm(
            initial={"target": current.pk if current else None}
            | ({"kind": current.kind} if current else {})
        ),
        "trash_count": manual.sections.filter(trashed_root=True).count() if editable else 0,
        "shift_buttons": SHIFT_BUTTONS,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    member = member_of(request.user)
    if member is None:
        return render(request, "manuals/no_team.html", status=403)
    mine = Manual.objects.filter(owner=request.user, is_template=False).order_by("-updated_at")
    team_manuals = (
        Manual.objects.readable_by(request.user)
        .filter(is_template=False, archived_at__isnull=True)
        .exclude(owner=request.user)
        .select_related("owner__member")
        # Live sections the team reads; the hidden root (level 0) is no chapter.
        .annotate(
            shared_count=Count(
                "sections",
                filter=Q(
                    sections__visibility="shared",
                    sections__level__gt=0,
                    sections__trashed_at__isnull=True,
                ),
            )
        )
        .order_by("owner__username")
    )
    templates = Manual.objects.readable_by(request.user).filter(is_template=True)
    return render(
        request,
        "manuals/home.html",
        {"member": member, "mine": mine, "team_manuals": team_manuals, "templates": templates},
    )


@login_required
def manual_detail(request: HttpRequest, manual_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id)
    context = _manual_context(request, manual, None)
    context.update(_document(request, context, scope=None))
    return render(request, "manuals/manual.html", context)


def _start_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("from", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


def _document(request: HttpRequest, context: dict, *, scope: Section | None) -> dict:
    """The first chunk of the continuous document (or the one ``?from=`` names), and the
    empty editor whose widget the in-place editor clones."""
    chunk = chunk_of(outline=context["outline"], scope=scope, start_id=_start_id(request))
    if chunk is None:
        chunk = chunk_of(outline=context["outline"], scope=scope)
    return {
        "chunk": chunk,
        "scope": scope,
        "inline_form": SectionForm() if context["editable"] else None,
    }


@login_required
def read_section(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    """A chapter (any section with what is below it) read as one document."""
    section = section_for(request, manual_id, section_id)
    context = _manual_context(request, section.manual, section)
    context.update(_document(request, context, scope=section))
    context["previous"], context["next"] = neighbours(context["outline"], section)
    return render(request, "manuals/document.html", context)


@login_required
@require_GET
def document_chunk(request: HttpRequest, manual_id: int) -> HttpResponse:
    """The next (or, with ``before=1``, the previous) chunk of the document, as a fragment."""
    manual = manual_for(request, manual_id)
    scope_id = request.GET.get("scope", "")
    scope = None
    if scope_id:
        if not (scope_id.isascii() and scope_id.isdigit()):
            raise Http404
        scope = section_for(request, manual_id, int(scope_id))
    editable = manual.can_write(request.user)
    outline = manual.outline_positions(user=None if editable else request.user)
    chunk = chunk_of(
        outline=outline, scope=scope, start_id=_start_id(request),
        before=request.GET.get("before") == "1",
    )  # fmt: skip
    if chunk is None:
        raise Http404
    context = {"manual": manual, "chunk": chunk, "editable": editable}
    return render(request, "manuals/_partials/document_chunk.html", context)


@login_required
@require_GET
def outline_branch(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    """The outline rows below a section (and the path to it) that a long manual's page was
    sent closed, as a fragment."""
    section = section_for(request, manual_id, section_id)
    manual = section.manual
    editable = manual.can_write(request.user)
    outline = manual.outline(user=None if editable else request.user)
    branch = render_outline_branch(manual, outline, section_id=section.pk, editable=editable)
    if branch is None:
        raise Http404
    return HttpResponse(branch)


@login_required
def section_detail(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    try:
        section = section_for(request, manual_id, section_id)
    except Http404:
        return _in_the_trash(request, manual_id, section_id)
    context = _manual_context(request, section.manual, section)
    context["previous"], context["next"] = neighbours(context["outline"], section)
    context["excellent"] = ExcellentCase.objects.filter(section=section).first()
    context["can_curate"] = lead_of(request.user, section.manual.team_id) is not None
    return render(request, "manuals/section.html", context)


def _in_the_trash(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    """An old address of a trashed section: its owner may restore it from here; everyone
    else still gets a plain 404."""
    section = section_for(request, manual_id, section_id, write=True)
    if section.trashed_at is None:
        raise Http404
    trashed = section
    if not section.trashed_root:
        above = Section.objects.ancestors_of(section).filter(trashed_root=True)
        trashed = above.in_outline_order().last() or section
    context = {"manual": section.manual, "section": section, "trashed": trashed}
    return render(request, "manuals/trashed_section.html", context, status=404)


@login_required
def edit_section(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    section = section_for(request, manual_id, section_id, write=True)
    if section.trashed_at is not None:
        raise Http404
    conflict = None
    if request.method == "POST":
        form = SectionForm(request.POST)
        if form.is_valid():
            try:
                tree.save_section_content(
                    section=section,
                    expected_version=form.cleaned_data["version"],
                    content=form.content(),
                    user=request.user,
                )
            except tree.EditConflict as error:
                conflict = error.current
                # Keep what the user typed; the next save knowingly replaces the new version.
                form = SectionForm(request.POST.copy())
                form.data["version"] = conflict.version
                form.is_valid()
            except tree.TreeError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("已保存。"))
                if _is_ajax(request):  # saved by static/js/drafts.js, which then goes there
                    url = reverse("manuals:section", args=[manual_id, section.pk])
                    return JsonResponse({"saved": True, "url": url})
                return redirect("manuals:section", manual_id=manual_id, section_id=section.pk)
    else:
        form = SectionForm.for_section(section)
    context = _manual_context(request, section.manual, section)
    context["form"] = form
    if conflict is not None:
        mine = form.cleaned_data if hasattr(form, "cleaned_data") else {}
        context["conflict"] = conflict
        context["conflict_rows"] = diff_sections(
            conflict.title, conflict.body, mine.get("title", ""), mine.get("body", "")
        )
    return render(request, "manuals/edit_section.html", context, status=409 if conflict else 200)


@login_required
@require_POST
def save_section_inline(request: HttpRequest, manual_id: int, section_id: int) -> JsonResponse:
    """The in-place editor's save: JSON in the answer, the version checked as on the edit
    page; a conflict (409) carries the saved version and both sides of the difference."""
    section = section_for(request, manual_id, section_id, write=True)
    if section.trashed_at is not None:
        raise Http404
    form = SectionForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return JsonResponse({"ok": False, "errors": errors}, status=400)
    try:
        saved = tree.save_section_content(
            section=section,
            expected_version=form.cleaned_data["version"],
            content=form.content(),
            user=request.user,
        )
    except tree.EditConflict as error:
        current = error.current
        rows = diff_sections(
            current.title, current.body, form.cleaned_data["title"], form.cleaned_data["body"]
        )
        who = current.updated_by
        return JsonResponse(
            {
                "ok": False,
                "conflict": {
                    "version": current.version,
                    "who": (getattr(who, "member", None) and who.member.name) or str(who or ""),
                    "when": current.updated_at.isoformat(timespec="seconds"),
                    "title": current.title,
                    "body": sanitize_html(current.body),
                    "rows": [
                        {"kind": r.kind, "left": str(r.left), "right": str(r.right)} for r in rows
                    ],
                },
            },
            status=409,
        )
    except tree.TreeError as error:
        return JsonResponse({"ok": False, "errors": [str(error)]}, status=400)
    return JsonResponse(
        {
            "ok": True,
            "version": saved.version,
            "title": saved.title,
            "body": sanitize_html(saved.body),
            "kind": saved.kind,
            "kind_label": saved.get_kind_display(),
            "visibility": saved.visibility,
            "visibility_label": saved.get_visibility_display(),
        }
    )


@login_required
@require_POST
def add_section(request: HttpRequest, manual_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id, write=True)
    form = NewSectionForm(request.POST)
    if not form.is_valid() and _is_ajax(request):
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return JsonResponse({"ok": False, "errors": errors}, status=400)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back_to(request, manual))
    data = form.cleaned_data
    target = None
    if data["target"]:
        target = get_object_or_404(Section.objects.filter(manual=manual), pk=data["target"])
    position = data["position"] or "last-child"
    if target is None or target.is_root:
        target, position = None, "last-child"
    try:
        section = tree.add_section(
            manual=manual,
            target=target,
            position=position,
            content=tree.SectionContent(
                title=data["title"], kind=data["kind"], visibility=data["visibility"]
            ),
            user=request.user,
        )
    except tree.TreeError as error:
        if _is_ajax(request):
            return JsonResponse({"ok": False, "errors": [str(error)]}, status=400)
        messages.error(request, str(error))
        return redirect(_back_to(request, manual))
    if _is_ajax(request):
        return _added_in_place(request, manual, section)
    return redirect("manuals:edit_section", manual_id=manual.pk, section_id=section.pk)


def _added_in_place(request: HttpRequest, manual: Manual, section: Section) -> JsonResponse:
    """The new section rendered as the document shows it, for the page to insert."""
    raw = request.POST.get("depth", "1")
    section.depth = min(int(raw), 50) if raw.isascii() and raw.isdigit() and raw != "0" else 1
    section.heading_level = min(section.depth + 1, 6)
    chunk = Chunk(rows=[section], previous_id=None, next_id=None, first_id=section.pk, total=1)
    html = render_to_string(
        "manuals/_partials/document_chunk.html",
        {"manual": manual, "chunk": chunk, "editable": True},
        request=request,
    )
    return JsonResponse({"ok": True, "id": section.pk, "html": html})


def _back_to(request: HttpRequest, manual: Manual) -> str:
    """The page to return to: ``next`` when it is one of ours, else the manual."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return manual_url(manual)


def manual_url(manual: Manual) -> str:
    return reverse("manuals:manual", kwargs={"manual_id": manual.pk})


def _tree_result(request, section: Section, error: str | None) -> HttpResponse:
    if _is_ajax(request):
        return JsonResponse({"ok": error is None, "error": error}, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("manuals:section", manual_id=section.manual_id, section_id=section.pk)


@login_required
@require_POST
def move_section(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    section = section_for(request, manual_id, section_id, write=True)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _tree_result(request, section, _("移动请求不完整。"))
    # Only this manual's sections are targets; another manual's id is "not found".
    target = Section.objects.filter(manual_id=manual_id, pk=form.cleaned_data["target"]).first()
    if target is None:
        return _tree_result(request, section, _("目标章节不在这本手册里。"))
    try:
        tree.move_section(
            section=section, target=target, position=form.cleaned_data["position"],
            user=request.user,
        )  # fmt: skip
    except tree.TreeError as error:
        return _tree_result(request, section, str(error))
    return _tree_result(request, section, None)


@login_required
@require_POST
def shift_section(
    request: HttpRequest, manual_id: int, section_id: int, direction: str
) -> HttpResponse:
    section = section_for(request, manual_id, section_id, write=True)
    try:
        tree.shift_section(section=section, direction=direction, user=request.user)
    except tree.TreeError as error:
        return _tree_result(request, section, str(error))
    return _tree_result(request, section, None)


@login_required
@require_POST
def trash_section(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    section = section_for(request, manual_id, section_id, write=True)
    try:
        tree.trash_section(section=section, user=request.user)
    except tree.TreeError as error:
        return _tree_result(request, section, str(error))
    messages.success(request, _("“%(title)s”已移到回收站。") % {"title": section.title})
    parent_id = section.parent_id
    if parent_id and parent_id != section.manual.root_id:
        return redirect("manuals:section", manual_id=manual_id, section_id=parent_id)
    return redirect("manuals:manual", manual_id=manual_id)


@login_required
def trash(request: HttpRequest, manual_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id, write=True)
    items = (
        manual.sections.filter(trashed_root=True)
        .select_related("updated_by", "parent")
        .order_by("-trashed_at")
    )
    trashed = [
        (item, manual.sections.subtree_of(item, include_self=False)
               .filter(trashed_at=item.trashed_at).count())
        for item in items
    ]  # fmt: skip
    context = _manual_context(request, manual, None)
    context["trashed"] = trashed
    return render(request, "manuals/trash.html", context)


@login_required
@require_POST
def restore_section(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    section = section_for(request, manual_id, section_id, write=True)
    try:
        section = tree.restore_section(section=section, user=request.user)
    except tree.TreeError as error:
        messages.error(request, str(error))
        return redirect("manuals:trash", manual_id=manual_id)
    messages.success(request, _("“%(title)s”已恢复。") % {"title": section.title})
    return redirect("manuals:section", manual_id=manual_id, section_id=section.pk)


@login_required
@require_POST
def purge_section(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    section = section_for(request, manual_id, section_id, write=True)
    try:
        tree.purge_section(section=section, user=request.user)
    except tree.TreeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("“%(title)s”已永久删除。") % {"title": section.title})
    return redirect("manuals:trash", manual_id=manual_id)


@login_required
def history(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    section = section_for(request, manual_id, section_id)
    # Only versions the reader could read when they were saved (a colleague never sees
    # what the section held while it was 仅自己).
    revisions = list(section.revisions.readable_by(request.user).select_related("author"))
    context = _manual_context(request, section.manual, section)
    context["revisions"] = revisions
    older = request.GET.get("a")
    newer = request.GET.get("b")
    if revisions:
        by_version = {str(r.version): r for r in revisions}
        a = by_version.get(older) or (revisions[1] if len(revisions) > 1 else revisions[0])
        b = by_version.get(newer) or revisions[0]
        context.update(a=a, b=b, rows=diff_sections(a.title, a.body, b.title, b.body))
    return render(request, "manuals/history.html", context)


@login_required
@require_POST
def restore_revision(
    request: HttpRequest, manual_id: int, section_id: int, version: int
) -> HttpResponse:
    section = section_for(request, manual_id, section_id, write=True)
    revision = get_object_or_404(Revision, section=section, version=version)
    try:
        tree.restore_revision(
            revision=revision,
            expected_version=int(request.POST.get("expected_version", 0)),
            user=request.user,
            with_visibility=request.POST.get("with_visibility") == "1",
            with_kind=request.POST.get("with_kind") == "1",
        )
    except tree.EditConflict:
        messages.error(request, _("这一节刚被修改过，请查看最新版本后再恢复。"))
        return redirect("manuals:history", manual_id=manual_id, section_id=section_id)
    except (tree.TreeError, ValueError) as error:
        messages.error(request, str(error))
        return redirect("manuals:history", manual_id=manual_id, section_id=section_id)
    messages.success(request, _("已恢复到版本 %(v)d。") % {"v": version})
    return redirect("manuals:section", manual_id=manual_id, section_id=section_id)


@login_required
@require_POST
def new_manual(request: HttpRequest) -> HttpResponse:
    """A blank manual with the four usual chapters (templates offer a richer start)."""
    member = member_of(request.user)
    if member is None:
        raise Http404
    title = _("%(name)s的工作手册") % {"name": member.name}
    manual = create_blank_manual(owner=request.user, title=title)
    messages.success(request, _("你的手册已创建。"))
    return redirect("manuals:manual", manual_id=manual.pk)


def login_locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """What django-axes shows after too many wrong passwords (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)


def forget_failed_logins(sender, request, user, **kwargs) -> None:
    """A good login clears that account's failed attempts, and nobody else's (axes' own
    reset would clear every attempt from the same address, other accounts' included)."""
    from axes.utils import reset

    reset(username=user.get_username())
