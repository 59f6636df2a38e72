"""A lead's curation of the team's templates: create, retire (archive), delete."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from manuals import tree
from manuals.access import lead_of
from manuals.bulk import create_blank_manual
from manuals.models import Manual, Section
from manuals.team_templates.default_template import fill_with_default_outline
from manuals.tree import TreeError, retry_deadlocks


def _check_lead(user, team_id: int) -> None:
    if lead_of(user, team_id) is None:
        raise TreeError(_("只有本团队的主管可以管理团队模板。"))


def create_template(*, lead, title: str, start_from: str = "default") -> Manual:
    """A new template for the lead's team: ``default`` content or four ``blank`` chapters."""
    if lead_of(lead) is None:
        raise TreeError(_("只有本团队的主管可以管理团队模板。"))
    if start_from != "default":
        return create_blank_manual(
            owner=lead, title=title, is_template=True, visibility=Section.Visibility.SHARED
        )
    with transaction.atomic():
        template = tree.create_manual(owner=lead, title=title, is_template=True)
        fill_with_default_outline(manual=template, user=lead)
    return template


@retry_deadlocks
def set_template_retired(*, template: Manual, retired: bool, user) -> Manual:
    """Retire a template (new hires no longer see it; clones keep everything) or bring it
    back. Retired templates are read-only like any archived manual."""
    _check_lead(user, template.team_id)
    if not template.is_template:
        raise TreeError(_("这不是团队模板。"))
    with transaction.atomic():
        template = tree.lock_manual(template.pk)
        template.archived_at = timezone.now() if retired else None
        template.save(update_fields=["archived_at", "updated_at"])
    return template


def clone_counts(templates) -> dict[int, int]:
    rows = (
        Manual.objects.filter(template__in=templates)
        .values("template_id")
        .annotate(n=Count("id"))
        .values_list("template_id", "n")
    )
    return dict(rows)


@retry_deadlocks
def delete_template(*, template: Manual, user) -> None:
    """Delete a template nobody has cloned yet. One with clones is refused: they point at
    it for updates, so the lead retires it instead (nothing is lost either way)."""
    _check_lead(user, template.team_id)
    if not template.is_template:
        raise TreeError(_("这不是团队模板。"))
    with transaction.atomic():
        template = tree.lock_manual(template.pk)
        clones = Manual.objects.filter(template=template).count()
        if clones:
            raise TreeError(
                ngettext(
                    "已有 %(n)d 本手册由这个模板创建，不能删除（它们要从这里接收模板更新）。"
                    "可以改为“停用”：新员工不会再看到它，已有的手册不受影响。",
                    "已有 %(n)d 本手册由这个模板创建，不能删除（它们要从这里接收模板更新）。"
                    "可以改为“停用”：新员工不会再看到它，已有的手册不受影响。",
                    clones,
                )
                % {"n": clones}
            )
        tree.delete_manual(manual=template)
