"""A lead's curation of the team's templates: create, retire (archive), delete."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from manuals import tree
from manuals.bulk import NewSection, insert_sections
from manuals.default_template import fill_with_default_outline
from manuals.models import Image, Manual, Section, member_of
from manuals.signals import sections_deleted
from manuals.tree import TreeError

STANDARD_CHAPTERS = [
    ("管理制度", Section.Kind.RULE),
    ("工作复盘", Section.Kind.RETROSPECTIVE),
    ("项目资料", Section.Kind.PROJECT),
    ("学习工具", Section.Kind.TOOL),
]


def _check_lead(user, team_id: int) -> None:
    member = member_of(user)
    if member is None or not member.is_lead or member.team_id != team_id:
        raise TreeError(_("只有本团队的主管可以管理团队模板。"))


def create_template(*, lead, title: str, start_from: str = "default") -> Manual:
    """A new template for the lead's team: ``default`` content or four ``blank`` chapters."""
    member = member_of(lead)
    if member is None:
        raise TreeError(_("只有本团队的主管可以管理团队模板。"))
    _check_lead(lead, member.team_id)
    with transaction.atomic():
        template = tree.create_manual(owner=lead, title=title, is_template=True)
        if start_from == "default":
            fill_with_default_outline(manual=template, user=lead)
        else:
            insert_sections(
                manual=template,
                parent=None,
                sections=[
                    NewSection(depth=1, title=t, kind=k, visibility=Section.Visibility.SHARED)
                    for t, k in STANDARD_CHAPTERS
                ],
                user=lead,
                revision_note=_("新建"),
            )
            tree.notify_changed(template.pk, None)
    return template


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


def delete_template(*, template: Manual, user) -> None:
    """Delete a template nobody has cloned yet. One with clones is refused: they point at
    it for updates, so the lead retires it instead (nothing is lost either way)."""
    _check_lead(user, template.team_id)
    if not template.is_template:
        raise TreeError(_("这不是团队模板。"))
    files: list[str] = []
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
        section_ids = list(Section.objects.filter(manual=template).values_list("id", flat=True))
        for image in Image.objects.filter(manual=template):
            files += [f.name for f in (image.file, image.thumbnail) if f]
        Manual.objects.filter(pk=template.pk).update(root=None)
        Section.objects.filter(manual=template).delete()
        template.delete()
        sections_deleted.send(sender=Section, manual_id=template.pk, section_ids=section_ids)

        def remove_files() -> None:
            storage = Image._meta.get_field("file").storage
            for name in files:
                storage.delete(name)

        transaction.on_commit(remove_files)
