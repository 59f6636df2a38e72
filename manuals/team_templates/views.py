"""Pages for team templates: day-one start, cloning, the lead's template overview and the
agent's template updates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from manuals.access import lead_required, manual_for
from manuals.models import Manual, member_of
from manuals.team_templates.cloning import clone_template, start_my_manual
from manuals.team_templates.curation import (
    clone_counts,
    create_template,
    delete_template,
    set_template_retired,
)
from manuals.team_templates.forms import NewTemplateForm, UpdateDecisionForm
from manuals.team_templates.removals import DELETE, decide_removed, removed_sections
from manuals.team_templates.sync import (
    KEEP_MINE,
    MERGE,
    TAKE_TEMPLATE,
    accept_all_untouched,
    accept_change,
    accept_new,
    pending_updates,
    skip_update,
    skipped_updates,
    template_status,
)
from manuals.tree import EditConflict, TreeError

# What the template pages look up: a team template, or one of the user's own manuals.
TEMPLATES = Manual.objects.filter(is_template=True)
CLONES = Manual.objects.filter(is_template=False).select_related("template")


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
    template = manual_for(request, template_id, among=TEMPLATES)
    try:
        manual = clone_template(template=template, owner=request.user)
    except TreeError as error:
        messages.error(request, str(error))
        return redirect("manuals:home")
    messages.success(request, _("已从模板“%(title)s”创建你的手册。") % {"title": template.title})
    return redirect("manuals:manual", manual_id=manual.pk)


@login_required
@lead_required
def templates_home(request: HttpRequest) -> HttpResponse:
    """The lead's page: the team's templates, how many manuals came from each, who is behind."""
    member = request.lead
    # Read only: a team without a template gets one when its lead creates it here (the
    # form offers our default content) or when a new hire starts a manual.
    templates = list(Manual.objects.filter(team=member.team, is_template=True).order_by("pk"))
    counts = clone_counts(templates)
    rows = []
    for template in templates:
        status = template_status(template=template) if counts.get(template.pk) else []
        rows.append(
            {
                "template": template,
                "clones": counts.get(template.pk, 0),
                "behind": sum(1 for s in status if s.behind),
            }
        )
    return render(
        request,
        "team_templates/index.html",
        {"rows": rows, "form": NewTemplateForm(), "member": member},
    )


@login_required
@lead_required
@require_POST
def template_new(request: HttpRequest) -> HttpResponse:
    form = NewTemplateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("manuals:templates")
    try:
        template = create_template(
            lead=request.user,
            title=form.cleaned_data["title"],
            start_from=form.cleaned_data["start_from"],
        )
    except TreeError as error:
        messages.error(request, str(error))
        return redirect("manuals:templates")
    messages.success(request, _("模板已创建，可以像编辑手册一样编辑它。"))
    return redirect("manuals:manual", manual_id=template.pk)


@login_required
@lead_required
def template_status_page(request: HttpRequest, template_id: int) -> HttpResponse:
    template = manual_for(request, template_id, among=TEMPLATES)
    status = template_status(template=template)
    return render(
        request,
        "team_templates/status.html",
        {"template": template, "status": status, "behind": sum(1 for s in status if s.behind)},
    )


@login_required
@lead_required
@require_POST
def template_retire(request: HttpRequest, template_id: int) -> HttpResponse:
    template = manual_for(request, template_id, among=TEMPLATES)
    retire = request.POST.get("retire") == "1"
    try:
        set_template_retired(template=template, retired=retire, user=request.user)
    except TreeError as error:
        messages.error(request, str(error))
    else:
        if retire:
            messages.success(request, _("模板已停用：新员工不会再看到它，已有的手册不受影响。"))
        else:
            messages.success(request, _("模板已重新启用。"))
    return redirect("manuals:templates")


@login_required
@lead_required
@require_POST
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    template = manual_for(request, template_id, among=TEMPLATES)
    try:
        delete_template(template=template, user=request.user)
    except TreeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("模板“%(title)s”已删除。") % {"title": template.title})
    return redirect("manuals:templates")


@login_required
def template_updates(request: HttpRequest, manual_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id, write=True, among=CLONES)
    context = {
        "manual": manual,
        "pending": pending_updates(manual=manual),
        "skipped": skipped_updates(manual=manual),
        "removed": removed_sections(manual=manual),
        "choices": CHOICE_LABELS,
    }
    return render(request, "team_templates/updates.html", context)


CHOICE_LABELS = [
    (
        TAKE_TEMPLATE,
        _lazy("采用模板版本"),
        _lazy("你现在的内容会保留在“历史版本”里，随时可以恢复。"),
    ),
    (KEEP_MINE, _lazy("保留我的版本"), _lazy("模板的新版本存进这一节的“历史版本”，方便日后对照。")),
    (MERGE, _lazy("两者都要"), _lazy("保留你的正文，并把模板的新内容附在后面，再由你整理。")),
]


@login_required
@require_POST
def template_update_decide(
    request: HttpRequest, manual_id: int, template_section_id: int
) -> HttpResponse:
    manual = manual_for(request, manual_id, write=True, among=CLONES)
    form = UpdateDecisionForm(request.POST)
    back = redirect("manuals:template_updates", manual_id=manual.pk)
    if not form.is_valid():
        messages.error(request, _("请求不完整，请刷新页面后重试。"))
        return back
    data = form.cleaned_data
    try:
        if data["action"] == "skip":
            skip_update(
                manual=manual,
                template_section_id=template_section_id,
                expected_template_version=data["template_version"],
                user=request.user,
            )
            messages.info(request, _("已跳过；模板再次修改这一节时会重新提示你。"))
        elif data["version"] is None:
            section = accept_new(
                manual=manual,
                template_section_id=template_section_id,
                expected_template_version=data["template_version"],
                user=request.user,
            )
            messages.success(request, _("已加入“%(title)s”。") % {"title": section.title})
        else:
            section = accept_change(
                manual=manual,
                template_section_id=template_section_id,
                expected_template_version=data["template_version"],
                expected_version=data["version"],
                choice=data["choice"] or TAKE_TEMPLATE,
                user=request.user,
            )
            messages.success(request, _("已更新“%(title)s”。") % {"title": section.title})
    except EditConflict:
        messages.error(
            request, _("你刚刚在别处修改了这一节，差异已按最新内容重新计算，请再确认一次。")
        )
    except TreeError as error:
        messages.error(request, str(error))
    return back


@login_required
@require_POST
def template_removal_decide(request: HttpRequest, manual_id: int, section_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id, write=True, among=CLONES)
    decision = request.POST.get("decision", "")
    try:
        section = decide_removed(
            manual=manual, section_id=section_id, decision=decision, user=request.user
        )
    except TreeError as error:
        messages.error(request, str(error))
    else:
        names = {"title": section.title}
        if decision == DELETE:
            messages.success(request, _("“%(title)s”已移到回收站，需要时可以恢复。") % names)
        else:
            messages.success(request, _("已保留“%(title)s”，它不再跟随模板更新。") % names)
    return redirect("manuals:template_updates", manual_id=manual.pk)


@login_required
@require_POST
def template_updates_accept_all(request: HttpRequest, manual_id: int) -> HttpResponse:
    manual = manual_for(request, manual_id, write=True, among=CLONES)
    taken, left = accept_all_untouched(manual=manual, user=request.user)
    if left:
        messages.success(
            request,
            ngettext("已采用 %(n)d 处更新。", "已采用 %(n)d 处更新。", taken) % {"n": taken},
        )
        messages.warning(
            request,
            ngettext(
                "还有 %(n)d 处你修改过的章节，请逐一决定。",
                "还有 %(n)d 处你修改过的章节，请逐一决定。",
                left,
            )
            % {"n": left},
        )
    else:
        messages.success(
            request,
            ngettext("已采用全部 %(n)d 处更新。", "已采用全部 %(n)d 处更新。", taken)
            % {"n": taken},
        )
    return redirect("manuals:template_updates", manual_id=manual.pk)
