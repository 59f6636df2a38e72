"""Copying sections between manuals: a colleague's shared section into my manual, and the
copies made by a handover (manuals.circulation.handover).

A copy takes the section (and, if asked, its subtree) as the copier may read it: a
colleague's private subsections never travel with a shared parent. Pictures are duplicated
into the target manual's library, and every copied section records where it came from
(``origin``, a readable ``origin_note``, ``copied_at``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manuals import tree
from manuals.bulk import NewSection, insert_sections
from manuals.images.copies import copy_images, delete_files, rewrite_image_refs
from manuals.models import Activity, Manual, Revision, Section, nest
from manuals.tree import TreeError

NOTE_MAX = 300


class CopyRefused(TreeError):
    """A copy we refuse; the message is for the user."""


def origin_note_for(source: Section, path: list[str], *, moved: bool = False) -> str:
    owner = source.manual.owner
    name = getattr(getattr(owner, "member", None), "name", "") or owner.get_username()
    when = timezone.localtime().strftime("%Y-%m-%d")
    trail = " › ".join([*path, source.title])
    # A handover that moves the sections is no copy: the giver no longer has them.
    message = (
        _("移交自 %(name)s《%(manual)s》：%(path)s（%(when)s）")
        if moved
        else _("复制自 %(name)s《%(manual)s》：%(path)s（%(when)s）")
    )
    note = message % {
        "name": name,
        "manual": source.manual.title,
        "path": trail,
        "when": when,
    }
    return note[:NOTE_MAX]


def _source_rows(source: Section, *, user, with_children: bool) -> list[Section]:
    rows = Section.objects.live()
    if with_children:
        rows = rows.subtree_of(source)
    else:
        rows = rows.filter(pk=source.pk)
    if user is not None:
        rows = rows.readable_by(user)
    rows = list(rows.in_outline_order())
    if not rows or rows[0].pk != source.pk:
        raise CopyRefused(_("这一节是同事的私有内容，或已被删除，不能复制。"))
    return rows


def _ancestor_titles(source: Section, *, reader) -> list[str]:
    """The path above ``source`` as the copier may read it (a private chapter's title
    must not travel in the origin note)."""
    above = Section.objects.ancestors_of(source)
    if reader is not None:
        above = above.readable_by(reader)
    return list(above.filter(level__gt=0).in_outline_order().values_list("title", flat=True))


def copy_subtree(
    *,
    source: Section,
    target_manual: Manual,
    parent: Section | None = None,
    user,
    with_children: bool = True,
    read_as=None,
    visibility: str | None = Section.Visibility.PRIVATE,
    keep_history: bool = False,
    check_write: bool = True,
) -> list[Section]:
    """Copy ``source`` (with its readable subtree) as the last child of ``parent`` in
    ``target_manual`` (``None``: a new chapter). Returns the new sections, source order.

    ``read_as`` is whose reading rights decide what travels (default ``user``);
    ``visibility`` None keeps each section's own; ``keep_history`` copies the revisions
    too (a handover "move") instead of starting a new history.
    """
    source = Section.objects.select_related("manual__owner__member").get(pk=source.pk)
    if source.is_root:
        raise CopyRefused(_("不能复制整本手册的根节点，请选择一个章节。"))
    if source.trashed_at is not None:
        raise CopyRefused(_("这一节在回收站里，不能复制。"))
    reader = user if read_as is None else read_as
    written: list[str] = []
    try:
        with transaction.atomic():
            target = tree.lock_manuals(target_manual.pk, source.manual_id)[target_manual.pk]
            if check_write and not target.can_write(user):
                raise CopyRefused(_("你不能修改这本手册，不能把章节复制进去。"))
            if target.team_id != source.manual.team_id:
                raise CopyRefused(_("不能在不同团队之间复制章节。"))
            if parent is not None:
                parent = Section.objects.filter(pk=parent.pk, manual=target).first()
                if parent is None:
                    raise CopyRefused(_("目标位置不在这本手册里。"))
                if parent.is_descendant_of(source, include_self=True):
                    raise CopyRefused(_("不能把章节复制到它自己的下面。"))
            rows = _source_rows(source, user=reader, with_children=with_children)
            note = origin_note_for(
                source, _ancestor_titles(source, reader=reader), moved=keep_history
            )
            mapping, written = copy_images(
                bodies=[r.body for r in rows],
                source_manual_ids=[source.manual_id],
                target=target,
                user=user,
            )
            now = timezone.now()
            outline = [
                NewSection(
                    depth=depth,
                    title=row.title,
                    body=rewrite_image_refs(row.body, mapping),
                    kind=row.kind,
                    visibility=visibility or row.visibility,
                    version=row.version if keep_history else 1,
                    created_at=row.created_at if keep_history else now,
                    updated_at=now,
                    updated_by_id=getattr(user, "pk", None),
                    origin_id=row.pk,
                    origin_note=note,
                    copied_at=now,
                )
                for row, depth in nest(rows)
            ]
            new_rows = insert_sections(
                manual=target,
                parent=parent,
                sections=outline,
                user=user,
                revision_note=None if keep_history else note[:200],
            )
            if keep_history:
                _copy_revisions(rows, new_rows, mapping)
            tree.notify_changed(target.pk, [r.pk for r in new_rows])
    except Exception:
        delete_files(written)
        raise
    return new_rows


# How far a visibility reaches: a version travels with a section only if it was saved at
# least as widely visible as the section is now.
REACH = {Section.Visibility.PRIVATE: 0, Section.Visibility.LEAD: 1, Section.Visibility.SHARED: 2}


def _copy_revisions(old_rows: list[Section], new_rows: list[Section], mapping) -> None:
    """The versions that travel with a moved section. A version saved while the section was
    narrower than it is now (仅自己 before it was shared) stays behind: the receiver gets
    the section as it is, not what it held while it was kept to its owner."""
    new_for = {old.pk: new.pk for old, new in zip(old_rows, new_rows, strict=True)}
    reach = {old.pk: REACH[old.visibility] for old in old_rows}
    versions = [
        r
        for r in Revision.objects.filter(section_id__in=list(new_for)).order_by("pk").iterator()
        if REACH[r.visibility] >= reach[r.section_id]
    ]
    copies = [
        Revision(
            section_id=new_for[r.section_id],
            version=r.version,
            title=r.title,
            kind=r.kind,
            visibility=r.visibility,
            body=rewrite_image_refs(r.body, mapping),
            author_id=r.author_id,
            note=r.note,
            created_at=r.created_at,
        )
        for r in versions
    ]
    Revision.objects.bulk_create(copies, batch_size=500)


@tree.retry_deadlocks
def copy_into_my_manual(
    *, source: Section, target_manual: Manual, parent: Section | None, user, with_children=True
) -> list[Section]:
    """Circulation: a colleague's shared section (and subtree) into my manual, logged."""
    with transaction.atomic():
        tree.lock_manuals(target_manual.pk, source.manual_id)
        rows = copy_subtree(
            source=source,
            target_manual=target_manual,
            parent=parent,
            user=user,
            with_children=with_children,
        )
        source_manual = Manual.objects.get(pk=source.manual_id)
        if source_manual.owner_id != user.pk:
            _log_circulation(source, source_manual, target_manual, rows, user)
    return rows


def _log_circulation(source, source_manual, target_manual, rows, user) -> None:
    Activity.objects.create(
        team_id=target_manual.team_id,
        kind=Activity.Kind.CIRCULATE,
        actor=user,
        from_user_id=source_manual.owner_id,
        to_user=user,
        from_manual=source_manual,
        to_manual=target_manual,
        source_section=source,
        new_section=rows[0],
        title=source.title,
        section_count=len(rows),
    )
