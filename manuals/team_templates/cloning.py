"""A new manual cloned from a team template, in a handful of queries.

The template's live outline is read in one query, its pictures are duplicated into the new
manual's library, and the whole tree is written by ``manuals.bulk.insert_sections`` with
precomputed nested-set numbers. Every cloned section remembers the template section and
the template version it came from, so later template updates can be offered section by
section (``manuals.team_templates.sync``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manuals import tree
from manuals.bulk import NewSection, insert_sections
from manuals.images.copies import copy_images, delete_files, rewrite_image_refs
from manuals.models import Manual, Section, member_of, nest
from manuals.team_templates.default_template import (
    ensure_default_template,
    fill_with_default_outline,
)
from manuals.tree import TreeError


class CloneRefused(TreeError):
    """A clone we refuse; the message is for the user."""


def _check_can_clone(template: Manual, owner) -> None:
    member = member_of(owner)
    if member is None:
        raise CloneRefused(_("这个用户不属于任何团队，不能创建手册。"))
    if not template.is_template:
        raise CloneRefused(_("“%(title)s”不是团队模板。") % {"title": template.title})
    if template.team_id != member.team_id:
        raise CloneRefused(_("不能使用其他团队的模板。"))
    if template.archived_at is not None:
        raise CloneRefused(_("这个模板已停用，请选择团队的其他模板。"))


def default_clone_title(owner) -> str:
    member = member_of(owner)
    name = member.name if member else owner.get_username()
    return _("%(name)s的工作手册") % {"name": name}


@tree.retry_deadlocks
def clone_template(*, template: Manual, owner, title: str | None = None) -> Manual:
    """Clone ``template`` into a new manual owned by ``owner``; returns the new manual.

    Trashed template sections are left out. Sections keep the template's kind and
    visibility; each remembers its template section and version.
    """
    _check_can_clone(template, owner)
    title = tree.clean_title(title or default_clone_title(owner))
    written: list[str] = []
    try:
        with transaction.atomic():
            # The new rows point at the template's sections: queue with its writers.
            tree.lock_manual(template.pk)
            rows = _template_outline(template)
            manual = tree.create_manual(owner=owner, title=title, team=template.team)
            Manual.objects.filter(pk=manual.pk).update(template=template)
            manual.template = template
            mapping, written = copy_images(
                bodies=(r["body"] for r in rows),
                source_manual_ids=[template.pk],
                target=manual,
                user=owner,
            )
            now = timezone.now()
            outline = [
                NewSection(
                    depth=depth,
                    title=row["title"],
                    body=rewrite_image_refs(row["body"], mapping),
                    kind=row["kind"],
                    visibility=row["visibility"],
                    created_at=now,
                    updated_at=now,
                    updated_by_id=owner.pk,
                    template_section_id=row["id"],
                    template_version=row["version"],
                    synced_version=1,
                )
                for row, depth in zip(rows, _depths(rows), strict=True)
            ]
            insert_sections(
                manual=manual,
                parent=None,
                sections=outline,
                user=owner,
                revision_note=_("从模板“%(title)s”创建") % {"title": template.title},
            )
            tree.notify_changed(manual.pk, None)
    except Exception:
        delete_files(written)
        raise
    return manual


def _template_outline(template: Manual) -> list[dict]:
    return list(
        Section.objects.filter(manual=template, level__gt=0, trashed_at__isnull=True)
        .in_outline_order()
        .values("id", "title", "body", "kind", "visibility", "version", *Section.TREE_FIELDS)
    )


def _depths(rows: list[dict]) -> list[int]:
    """Outline depth of each live row; a row whose parent is trashed (and left out) hangs
    under its nearest live ancestor, so the clone never has a gap in its levels."""
    return [depth for _row, depth in nest(rows)]


def start_my_manual(*, user) -> Manual:
    """Day one: the new hire's own manual from the team template (or our default content
    when the team has no template and no lead to own one yet)."""
    member = member_of(user)
    if member is None:
        raise CloneRefused(_("你还没有加入团队，请联系管理员。"))
    template = ensure_default_template(team=member.team)
    if template is not None:
        return clone_template(template=template, owner=user)
    manual = tree.create_manual(owner=user, title=default_clone_title(user))
    fill_with_default_outline(manual=manual, user=user, visibility=Section.Visibility.PRIVATE)
    return manual
