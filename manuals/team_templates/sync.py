"""Template updates reaching manuals cloned from a template, section by section.

Every cloned section remembers its template section, the template version it took
(``template_version``) and its own version right after (``synced_version``). A template
section is then *new* for a clone that has no copy of it, and *changed* when its version is
past the one the copy took and its content really differs. The agent accepts or skips
each. Accepting never loses the agent's words: every save keeps a revision, and when the
agent had edited the copy they choose between the template's version (theirs stays in the
history), keeping theirs (the template's version goes into the history), or both (mine
with every paragraph of the template's that mine lacks, merged in where the template has it).

Structure stays the agent's: template moves are not replayed, and a section the agent
deleted is not offered again. Sections the template removes are offered for a decision by
manuals.team_templates.removals, never deleted from the clones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manuals import tree
from manuals.diff import DiffRow, diff_sections, merge_bodies
from manuals.images.copies import copy_images, delete_files, rewrite_image_refs
from manuals.models import Manual, Revision, Section, SkippedTemplateUpdate
from manuals.team_templates.removals import removed_counts
from manuals.tree import EditConflict, SectionContent, TreeError

NEW = "new"
CHANGED = "changed"

TAKE_TEMPLATE = "template"  # replace with the template's version (mine stays in history)
KEEP_MINE = "mine"  # keep mine; the template's version is stored in the history
MERGE = "both"  # keep mine and merge in the template's paragraphs mine lacks
CHOICES = (TAKE_TEMPLATE, KEEP_MINE, MERGE)


class UpdateRefused(TreeError):
    """An update decision we refuse; the message is for the user."""


@dataclass
class PendingUpdate:
    kind: str  # NEW | CHANGED
    template_section: Section
    copy: Section | None = None
    # What the agent's copy was made from (the template at ``copy.template_version``).
    base: Revision | None = None
    parent_title: str = ""
    rows: list[DiffRow] = field(default_factory=list)

    @property
    def edited(self) -> bool:
        """The agent changed their copy since they last took the template's version."""
        copy = self.copy
        return copy is not None and (
            copy.synced_version is None or copy.version != copy.synced_version
        )


def _template_rows(template: Manual, *, with_bodies: bool = True) -> list[Section]:
    rows = Section.objects.filter(manual=template, level__gt=0, trashed_at__isnull=True)
    if not with_bodies:
        rows = rows.only("id", "title", "parent_id", "version", *Section.TREE_FIELDS)
    return list(rows.in_outline_order())


COPY_FIELDS = (
    "id", "manual_id", "parent_id", "template_section_id", "template_version", "trashed_at",
    "version", "synced_version", *Section.TREE_FIELDS,
)  # fmt: skip


def _copies(manual: Manual, *, with_bodies: bool = True) -> dict[int, Section]:
    """The manual's copy of each template section (a live copy wins over a trashed one)."""
    copies: dict[int, Section] = {}
    rows = Section.objects.filter(manual=manual, template_section__isnull=False)
    if not with_bodies:
        rows = rows.only(*COPY_FIELDS)
    for row in rows.in_outline_order(live_first=True):
        copies.setdefault(row.template_section_id, row)
    return copies


def _skipped(manual_ids: list[int]) -> dict[tuple[int, int], int]:
    return {
        (m, s): v
        for m, s, v in SkippedTemplateUpdate.objects.filter(manual_id__in=manual_ids).values_list(
            "manual_id", "template_section_id", "template_version"
        )
    }


def _bases(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Revision]:
    """Template revisions by (section id, version), in one query."""
    if not pairs:
        return {}
    revisions = Revision.objects.filter(
        section_id__in={s for s, _v in pairs}, version__in={v for _s, v in pairs}
    )
    return {(r.section_id, r.version): r for r in revisions if (r.section_id, r.version) in pairs}


def _classify(
    template_rows: list[Section],
    copies: dict[int, Section],
    skipped: dict[int, int],
    bases: dict[tuple[int, int], Revision],
    contents: dict[int, tuple],
) -> list[PendingUpdate]:
    """``contents``: (title, body, kind) of each template section whose version is past
    its copy's, to tell a real change from a save that changed nothing."""
    pending: list[PendingUpdate] = []
    for row in template_rows:
        if skipped.get(row.pk, 0) >= row.version:
            continue
        copy = copies.get(row.pk)
        if copy is None:
            pending.append(PendingUpdate(NEW, row))
            continue
        if copy.trashed_at is not None or (copy.template_version or 0) >= row.version:
            continue
        base = bases.get((row.pk, copy.template_version or 0))
        if base is None or contents[row.pk] != (base.title, base.body, base.kind):
            pending.append(PendingUpdate(CHANGED, row, copy=copy, base=base))
    return pending


def _needed_bases(template_rows, copies) -> set[tuple[int, int]]:
    return {
        (row.pk, copies[row.pk].template_version or 0)
        for row in template_rows
        if row.pk in copies and (copies[row.pk].template_version or 0) < row.version
    }


def _contents(pairs: set[tuple[int, int]]) -> dict[int, tuple]:
    ids = {s for s, _v in pairs}
    if not ids:
        return {}
    rows = Section.objects.filter(pk__in=ids).values_list("pk", "title", "body", "kind")
    return {pk: (title, body, kind) for pk, title, body, kind in rows}


def pending_updates(*, manual: Manual, with_diffs: bool = True) -> list[PendingUpdate]:
    """What the template has that ``manual`` has not taken yet, in template order."""
    template = manual.template
    if template is None or manual.is_template:
        return []
    rows = _template_rows(template, with_bodies=with_diffs)
    copies = _copies(manual, with_bodies=with_diffs)
    skipped = {s: v for (_m, s), v in _skipped([manual.pk]).items()}
    needed = _needed_bases(rows, copies)
    pending = _classify(rows, copies, skipped, _bases(needed), _contents(needed))
    if with_diffs:
        titles = {row.pk: row.title for row in rows}
        for item in pending:
            ts = item.template_section
            item.parent_title = titles.get(ts.parent_id, "")
            if item.copy is None:
                item.rows = diff_sections("", "", ts.title, ts.body)
            else:
                item.rows = diff_sections(item.copy.title, item.copy.body, ts.title, ts.body)
    return pending


def skipped_updates(*, manual: Manual) -> list[PendingUpdate]:
    """The updates the agent skipped and the template has not changed since: still listed,
    and still open to adopt."""
    template = manual.template
    if template is None or manual.is_template:
        return []
    skipped = {s: v for (_m, s), v in _skipped([manual.pk]).items()}
    if not skipped:
        return []
    rows = _template_rows(template, with_bodies=True)
    titles = {row.pk: row.title for row in rows}
    rows = [row for row in rows if skipped.get(row.pk, 0) >= row.version]
    copies = _copies(manual, with_bodies=True)
    needed = _needed_bases(rows, copies)
    items = _classify(rows, copies, {}, _bases(needed), _contents(needed))
    for item in items:
        ts = item.template_section
        item.parent_title = titles.get(ts.parent_id, "")
        old = (item.copy.title, item.copy.body) if item.copy else ("", "")
        item.rows = diff_sections(*old, ts.title, ts.body)
    return items


def pending_count(*, manual: Manual) -> int:
    return len(pending_updates(manual=manual, with_diffs=False))


@dataclass
class CloneStatus:
    manual: Manual
    new: int
    changed: int
    removed: int = 0  # sections the template removed that the agent has not decided on

    @property
    def behind(self) -> int:
        return self.new + self.changed + self.removed


def template_status(*, template: Manual) -> list[CloneStatus]:
    """For the lead: every live manual cloned from ``template`` and how far behind it is,
    the furthest behind first. A fixed number of queries, whatever the team size."""
    clones = list(template.clones.filter(archived_at__isnull=True).select_related("owner__member"))
    if not clones:
        return []
    rows = _template_rows(template, with_bodies=False)
    copies_by_manual: dict[int, dict[int, Section]] = {c.pk: {} for c in clones}
    copy_rows = (
        Section.objects.filter(manual_id__in=list(copies_by_manual), template_section__isnull=False)
        .only(*COPY_FIELDS)
        .in_outline_order(live_first=True)
    )
    for row in copy_rows:
        copies_by_manual[row.manual_id].setdefault(row.template_section_id, row)
    skipped = _skipped(list(copies_by_manual))
    needed: set[tuple[int, int]] = set()
    for copies in copies_by_manual.values():
        needed |= _needed_bases(rows, copies)
    bases, contents = _bases(needed), _contents(needed)
    removed = removed_counts(manual_ids=list(copies_by_manual))
    status = []
    for clone in clones:
        mine = {s: v for (m, s), v in skipped.items() if m == clone.pk}
        pending = _classify(rows, copies_by_manual[clone.pk], mine, bases, contents)
        status.append(
            CloneStatus(
                manual=clone,
                new=sum(1 for p in pending if p.kind == NEW),
                changed=sum(1 for p in pending if p.kind == CHANGED),
                removed=removed.get(clone.pk, 0),
            )
        )
    status.sort(key=lambda s: (-s.behind, s.manual.owner.get_username()))
    return status


def _locked_pair(manual: Manual, template_section_id: int, user) -> tuple[Manual, Section]:
    """Lock the template and the clone (in id order, like every two-manual write)."""
    manual = Manual.objects.get(pk=manual.pk)
    if manual.template_id is None:
        raise UpdateRefused(_("这本手册的来源模板已被删除，不会再有模板更新。"))
    manual = tree.lock_manuals(manual.template_id, manual.pk)[manual.pk]
    if manual.template_id is None:
        raise UpdateRefused(_("这本手册的来源模板已被删除，不会再有模板更新。"))
    if user is not None and not manual.can_write(user):
        raise UpdateRefused(_("你不能修改这本手册。"))
    row = Section.objects.filter(
        pk=template_section_id, manual_id=manual.template_id, level__gt=0
    ).first()
    if row is None or row.trashed_at is not None:
        raise UpdateRefused(_("模板里的这一节已被删除，无法采用。"))
    return manual, row


def _check_template_version(row: Section, expected: int) -> None:
    if row.version != expected:
        raise UpdateRefused(
            _("主管刚刚又修改了模板里的“%(title)s”，请查看最新的差异后再决定。")
            % {"title": row.title}
        )


def _template_body_for(manual: Manual, row: Section, user, written: list[str]) -> str:
    mapping, files = copy_images(
        bodies=[row.body], source_manual_ids=[row.manual_id], target=manual, user=user
    )
    written += files
    return rewrite_image_refs(row.body, mapping)


@tree.retry_deadlocks
def accept_new(
    *, manual: Manual, template_section_id: int, expected_template_version: int, user
) -> Section:
    """Copy a section the template gained into ``manual``, next to where it sits there."""
    written: list[str] = []
    try:
        with transaction.atomic():
            manual, row = _locked_pair(manual, template_section_id, user)
            _check_template_version(row, expected_template_version)
            copies = _copies(manual)
            existing = copies.get(row.pk)
            if existing is not None and existing.trashed_at is None:
                raise UpdateRefused(_("你的手册里已经有这一节了。"))
            target, position = _place_for(manual, row, copies)
            section = tree.add_section(
                manual=manual,
                target=target,
                position=position,
                content=SectionContent(
                    title=row.title,
                    body=_template_body_for(manual, row, user, written),
                    kind=row.kind,
                    visibility=row.visibility,
                ),
                user=user,
            )
            Revision.objects.filter(section=section).update(
                note=_("采用模板新增的章节（模板第 %(v)d 版）") % {"v": row.version}
            )
            Section.objects.filter(pk=section.pk).update(
                template_section_id=row.pk,
                template_version=row.version,
                synced_version=section.version,
            )
            SkippedTemplateUpdate.objects.filter(manual=manual, template_section=row).delete()
    except Exception:
        delete_files(written)
        raise
    section.refresh_from_db()
    return section


def _place_for(manual: Manual, row: Section, copies: dict[int, Section]) -> tuple[Section, str]:
    """Right after the copy of the template's previous sibling, else first under the copy
    of its parent, else a new chapter at the end."""
    previous = (
        Section.objects.before(row)
        .filter(parent_id=row.parent_id, trashed_at__isnull=True)
        .in_outline_order(reverse=True)
        .first()
    )
    parent_copy = copies.get(row.parent_id)
    if parent_copy is not None and parent_copy.trashed_at is not None:
        parent_copy = None
    if previous is not None:
        sibling = copies.get(previous.pk)
        if sibling is not None and sibling.trashed_at is None:
            if parent_copy is None or sibling.parent_id == parent_copy.pk:
                return sibling, "right"
    if parent_copy is not None:
        return parent_copy, "first-child" if previous is None else "last-child"
    root = Section.objects.get(pk=manual.root_id)
    return root, "last-child"


@tree.retry_deadlocks
def accept_change(
    *,
    manual: Manual,
    template_section_id: int,
    expected_template_version: int,
    expected_version: int,
    choice: str = TAKE_TEMPLATE,
    user,
) -> Section:
    """Take a changed template section into the agent's copy (see the module docstring)."""
    if choice not in CHOICES:
        raise UpdateRefused(_("未知的选择。"))
    written: list[str] = []
    try:
        with transaction.atomic():
            manual, row = _locked_pair(manual, template_section_id, user)
            _check_template_version(row, expected_template_version)
            copy = _copies(manual).get(row.pk)
            if copy is None or copy.trashed_at is not None:
                raise UpdateRefused(_("你的手册里已没有这一节（可能已删除）。"))
            if copy.version != expected_version:
                # The agent saved the section in another tab since the diff was shown.
                raise EditConflict(copy)
            edited = copy.synced_version is None or copy.version != copy.synced_version
            if not edited:
                choice = TAKE_TEMPLATE
            template_body = _template_body_for(manual, row, user, written)
            theirs = SectionContent(
                title=row.title, body=template_body, kind=row.kind, visibility=copy.visibility
            )
            mine = SectionContent(
                title=copy.title, body=copy.body, kind=copy.kind, visibility=copy.visibility
            )
            v = {"v": row.version}
            if choice == TAKE_TEMPLATE:
                saved = _save(copy, theirs, user, _("采用模板更新（模板第 %(v)d 版）") % v)
                synced = saved.version
            elif choice == KEEP_MINE:
                stored = _save(copy, theirs, user, _("模板第 %(v)d 版（存档，未采用）") % v)
                saved = _save(stored, mine, user, _("保留我的版本"))
                synced = stored.version  # still counts as the agent's own edit
            else:
                # Mine with the template's blocks that mine lacks, each where the
                # template has it: no unchanged paragraph twice.
                both = SectionContent(
                    title=copy.title,
                    body=merge_bodies(copy.body, template_body),
                    kind=copy.kind,
                    visibility=copy.visibility,
                )
                saved = _save(copy, both, user, _("合并模板更新（模板第 %(v)d 版）") % v)
                synced = copy.synced_version
            Section.objects.filter(pk=saved.pk).update(
                template_version=row.version, synced_version=synced
            )
            SkippedTemplateUpdate.objects.filter(manual=manual, template_section=row).delete()
    except Exception:
        delete_files(written)
        raise
    saved.refresh_from_db()
    return saved


def _save(section: Section, content: SectionContent, user, note: str) -> Section:
    return tree.save_section_content(
        section=section, expected_version=section.version, content=content, user=user, note=note
    )


@tree.retry_deadlocks
def skip_update(
    *, manual: Manual, template_section_id: int, expected_template_version: int, user
) -> None:
    """Hide this update until the template section changes again."""
    with transaction.atomic():
        manual, row = _locked_pair(manual, template_section_id, user)
        _check_template_version(row, expected_template_version)
        SkippedTemplateUpdate.objects.update_or_create(
            manual=manual,
            template_section=row,
            defaults={
                "template_version": row.version,
                "decided_by": user,
                "decided_at": timezone.now(),
            },
        )


def accept_all_untouched(*, manual: Manual, user) -> tuple[int, int]:
    """Take every pending update that cannot clobber the agent: new sections, and changes
    to sections the agent never edited. Returns (taken, left for a decision one by one)."""
    taken = left = 0
    for item in pending_updates(manual=manual, with_diffs=False):
        ts = item.template_section
        try:
            if item.kind == NEW:
                accept_new(
                    manual=manual, template_section_id=ts.pk,
                    expected_template_version=ts.version, user=user,
                )  # fmt: skip
            elif not item.edited:
                accept_change(
                    manual=manual, template_section_id=ts.pk,
                    expected_template_version=ts.version, expected_version=item.copy.version,
                    user=user,
                )  # fmt: skip
            else:
                left += 1
                continue
        except (EditConflict, UpdateRefused):
            left += 1  # changed meanwhile: shown again for a decision
            continue
        taken += 1
    return taken, left
