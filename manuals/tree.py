"""Every write to a manual's tree goes through here.

django-mptt keeps lft/rght in the rows and computes moves from the values on the Python
objects it is given, so a stale object or two concurrent writers corrupt the tree. Each
function therefore runs in ``transaction.atomic()``, locks the manual row first (and the
global TreeLock before a new tree is made) and reloads every node it touches.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

from django.db import OperationalError, transaction
from django.db.models import Case, F, IntegerField, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _

from manuals.models import (
    BODY_MAX_CHARS,
    TITLE_MAX_LENGTH,
    Draft,
    Image,
    Manual,
    Revision,
    Section,
    Team,
    TreeLock,
)
from manuals.sanitize import drop_pictures_not_in, referenced_image_ids, sanitize_html
from manuals.signals import sections_changed, sections_deleted

# Word stops at 9 heading levels; a manual deeper than this is a mistake, not an outline.
MAX_DEPTH = 32
POSITIONS = {"first-child", "last-child", "left", "right"}


class TreeError(Exception):
    """A tree change that was refused; the message is for the user."""


class EditConflict(Exception):
    """The section changed since the editor loaded it."""

    def __init__(self, current: Section):
        super().__init__(_("这一节在你编辑期间已被修改，请对比后再保存。"))
        self.current = current


@dataclass(frozen=True)
class SectionContent:
    title: str
    body: str = ""
    kind: str = Section.Kind.NOTE
    visibility: str = Section.Visibility.PRIVATE


def check_choices(kind: str, visibility: str) -> None:
    """Only known kinds and visibilities are written (the database refuses others too)."""
    if kind not in Section.Kind.values:
        raise TreeError(_("未知的章节类型。"))
    if visibility not in Section.Visibility.values:
        raise TreeError(_("未知的可见范围。"))


def own_pictures_only(manual_id: int, bodies: list[str]) -> list[str]:
    """``bodies`` as they may be stored in this manual: each picture of another manual's
    library becomes a visible note (see sanitize.drop_pictures_not_in). One query."""
    # Read the markup as it will be stored: the sanitiser turns <IMG SRC=…>, unquoted or
    # entity-encoded addresses into plain <img src="/images/N/">, which is what we check.
    bodies = [sanitize_html(b) if b and "img" in b.lower() else b for b in bodies]
    wanted = referenced_image_ids(bodies)
    if not wanted:
        return bodies
    own = set(Image.objects.filter(manual_id=manual_id, pk__in=wanted).values_list("pk", flat=True))
    if own == wanted:
        return bodies
    return [drop_pictures_not_in(body, own) for body in bodies]


def clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise TreeError(_("标题不能为空。"))
    if len(title) > TITLE_MAX_LENGTH:
        raise TreeError(
            _("标题太长：最多 %(max)d 个字符，现在是 %(n)d 个。")
            % {"max": TITLE_MAX_LENGTH, "n": len(title)}
        )
    return title


log = logging.getLogger(__name__)
# PostgreSQL's "deadlock detected" and "could not serialize": the victim's transaction
# was rolled back whole, so running it again from the start is safe.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
RETRIES = 3


def retry_deadlocks(func):
    """Run a write (its own transaction) again when PostgreSQL aborted it to break a
    deadlock, instead of showing the user an error for a race they did not cause.

    Rows are locked in a fixed order everywhere, but the database's own foreign-key
    checks at commit can still cross with another manual's tree shift. Inside an outer
    transaction nothing is retried: that transaction is broken and must fail as a whole.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        attempt = 0
        while True:
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                sqlstate = getattr(exc.__cause__, "sqlstate", None)
                attempt += 1
                if (
                    sqlstate not in RETRYABLE_SQLSTATES
                    or attempt > RETRIES
                    or transaction.get_connection().in_atomic_block
                ):
                    raise
                log.warning("%s: transaction aborted (%s), running it again", func.__name__,
                            sqlstate)  # fmt: skip
                time.sleep(0.05 * attempt)

    return wrapper


def lock_manual(manual_id: int) -> Manual:
    # FOR NO KEY UPDATE: writers of one manual queue on each other, but rows that merely
    # point at the manual (sections, pictures, log entries of another transaction) can
    # still take the KEY SHARE lock their foreign-key check needs. Plain FOR UPDATE made
    # those checks wait for the lock holder, which deadlocked concurrent copies/clones.
    return Manual.objects.select_for_update(no_key=True).get(pk=manual_id)


def lock_manuals(*manual_ids: int) -> dict[int, Manual]:
    """Lock several manuals, always in id order, for work that writes rows pointing into
    another manual (copies, clones, template updates, handovers): their foreign-key
    checks wait on that manual's tree shifts, so both sides must queue, never cross."""
    return {pk: lock_manual(pk) for pk in sorted(set(manual_ids))}


def notify_changed(manual_id: int, section_ids: list[int] | None) -> None:
    sections_changed.send(sender=Section, manual_id=manual_id, section_ids=section_ids)


def _subtree_ids(section: Section) -> list[int]:
    return list(
        Section.objects.filter(
            tree_id=section.tree_id, lft__gte=section.lft, rght__lte=section.rght
        ).values_list("id", flat=True)
    )


def fresh_section(section_id: int) -> Section:
    """The section as it is in the database now, for a write that holds the manual lock;
    a section purged meanwhile is a TreeError the user can read, not DoesNotExist."""
    try:
        return Section.objects.get(pk=section_id)
    except Section.DoesNotExist:
        # Purged by another request since the caller loaded it.
        raise TreeError(_("这一节已不存在（可能已被永久删除）。")) from None


def _check_writable(manual: Manual, user) -> None:
    if user is not None and not manual.can_write(user):
        raise TreeError(_("你不能修改这本手册。"))


def _record_revision(section: Section, *, user, note: str = "") -> Revision:
    return Revision.objects.create(
        section=section,
        version=section.version,
        title=section.title,
        kind=section.kind,
        visibility=section.visibility,
        body=section.body,
        author=user,
        note=note,
        created_at=section.updated_at,
    )


def create_manual(
    *, owner, title: str, team: Team | None = None, is_template: bool = False
) -> Manual:
    title = clean_title(title)
    team = team or owner.member.team
    with transaction.atomic():
        TreeLock.objects.get_or_create(pk=1)
        TreeLock.objects.select_for_update().get(pk=1)
        manual = Manual.objects.create(owner=owner, team=team, title=title, is_template=is_template)
        root = Section.objects.create(
            manual=manual, parent=None, title=title, visibility=Section.Visibility.SHARED
        )
        manual.root = root
        manual.save(update_fields=["root"])
    return manual


@retry_deadlocks
def delete_manual(*, manual: Manual) -> None:
    """Delete a manual for good: its sections, revisions, pictures and print editions; the
    index forgets its sections and the picture files go once the deletion commits."""
    with transaction.atomic():
        manual = lock_manual(manual.pk)
        manual_id = manual.pk
        section_ids = list(Section.objects.filter(manual=manual).values_list("id", flat=True))
        files = [
            f.name
            for image in Image.objects.filter(manual=manual)
            for f in (image.file, image.thumbnail)
            if f
        ]
        manual.delete()
        sections_deleted.send(sender=Section, manual_id=manual_id, section_ids=section_ids)

        def remove_files() -> None:
            storage = Image._meta.get_field("file").storage
            for name in files:
                storage.delete(name)

        transaction.on_commit(remove_files)


def _target_depth_ok(target: Section, position: str, subtree_height: int) -> None:
    new_level = target.level + 1 if position in {"first-child", "last-child"} else target.level
    if new_level + subtree_height > MAX_DEPTH:
        raise TreeError(_("层级太深：手册最多 %(max)d 级标题。") % {"max": MAX_DEPTH})


def body_too_long(body: str | None) -> int:
    """The stored length of ``body`` if it is over BODY_MAX_CHARS, else 0."""
    if len(body or "") <= BODY_MAX_CHARS:
        return 0
    stored = len(sanitize_html(body))  # markup the sanitiser drops does not count
    return stored if stored > BODY_MAX_CHARS else 0


def check_body(body: str | None, *, title: str) -> None:
    length = body_too_long(body)
    if length:
        raise TreeError(
            _("「%(title)s」的正文太长：最多 %(max)d 个字符，现在是 %(n)d 个。请拆成几节。")
            % {"title": title[:40], "max": BODY_MAX_CHARS, "n": length}
        )


@retry_deadlocks
def add_section(
    *,
    manual: Manual,
    target: Section | None = None,
    position: str = "last-child",
    content: SectionContent,
    user=None,
) -> Section:
    """Add a section relative to ``target`` (default: last chapter of the manual)."""
    if position not in POSITIONS:
        raise TreeError(_("未知的位置。"))
    title = clean_title(content.title)
    check_choices(content.kind, content.visibility)
    check_body(content.body, title=title)
    with transaction.atomic():
        manual = lock_manual(manual.pk)
        _check_writable(manual, user)
        target = fresh_section(target.pk if target is not None else manual.root_id)
        if target.manual_id != manual.pk:
            raise TreeError(_("目标章节不在这本手册里。"))
        if target.trashed_at is not None:
            raise TreeError(_("目标章节在回收站里，请先恢复。"))
        if target.is_root and position in {"left", "right"}:
            raise TreeError(_("不能在手册根节点旁边添加章节。"))
        _target_depth_ok(target, position, 0)
        now = timezone.now()
        section = Section(
            manual=manual,
            title=title,
            body=own_pictures_only(manual.pk, [content.body])[0],
            kind=content.kind,
            visibility=content.visibility,
            created_at=now,
            updated_at=now,
            updated_by=user,
        )
        section.insert_at(target, position=position, save=True)
        section.refresh_from_db()
        _record_revision(section, user=user, note=_("新建"))
        notify_changed(manual.pk, [section.pk])
    return section


@retry_deadlocks
def move_section(*, section: Section, target: Section, position: str, user=None) -> Section:
    """Move a section with its whole subtree next to or under ``target``."""
    if position not in POSITIONS:
        raise TreeError(_("未知的位置。"))
    with transaction.atomic():
        manual = lock_manual(section.manual_id)
        _check_writable(manual, user)
        section, target = fresh_section(section.pk), fresh_section(target.pk)
        if section.is_root:
            raise TreeError(_("手册根节点不能移动。"))
        if target.manual_id != section.manual_id:
            raise TreeError(_("只能在同一本手册里移动章节。"))
        if section.trashed_at is not None or target.trashed_at is not None:
            raise TreeError(_("回收站里的章节不能移动。"))
        if target.is_root and position in {"left", "right"}:
            raise TreeError(_("章节不能移到手册根节点旁边。"))
        if section.lft <= target.lft and target.rght <= section.rght:
            raise TreeError(_("不能把章节移到它自己或它的子章节下面。"))
        height = _subtree_height(section)
        _target_depth_ok(target, position, height)
        _move_subtree(section, target, position, user=user)
        # Paths of the whole subtree changed.
        notify_changed(manual.pk, _subtree_ids(fresh_section(section.pk)))
    return fresh_section(section.pk)


def _move_subtree(node: Section, target: Section, position: str, *, user) -> None:
    """Move ``node``'s subtree within its tree; both rows fresh, the move already checked.

    django-mptt's move rewrites every row of the tree (its UPDATE is bounded by tree_id
    only) and then saves the whole node again; in a 5,000-section manual that is most of
    the time of a move. This is the same nested-set move, restricted to the rows whose
    bounds change.
    """
    left, right, width = node.lft, node.rght, node.rght - node.lft + 1
    if position in {"first-child", "last-child"}:
        parent_id, level = target.pk, target.level + 1
        edge = target.lft + 1 if position == "first-child" else target.rght
    else:
        parent_id, level = target.parent_id, target.level
        edge = target.lft if position == "left" else target.rght + 1
    # ``edge`` is the bound, in today's numbering, that the subtree will start at.
    if edge > right:  # moving towards the end: the rows in between close up
        shift, between, gap = edge - 1 - right, (right + 1, edge - 1), -width
    else:  # moving towards the start: the rows in between make room
        shift, between, gap = edge - left, (edge, left - 1), width
    subtree, number = (left, right), IntegerField()
    touched = (min(left, between[0]), max(right, between[1]))
    Section.objects.filter(
        Q(lft__range=touched) | Q(rght__range=touched), tree_id=node.tree_id
    ).update(
        level=Case(When(lft__range=subtree, then=F("level") + (level - node.level)),
                   default=F("level"), output_field=number),
        lft=Case(When(lft__range=subtree, then=F("lft") + shift),
                 When(lft__range=between, then=F("lft") + gap), default=F("lft"),
                 output_field=number),
        rght=Case(When(rght__range=subtree, then=F("rght") + shift),
                  When(rght__range=between, then=F("rght") + gap), default=F("rght"),
                  output_field=number),
    )  # fmt: skip
    Section.objects.filter(pk=node.pk).update(parent_id=parent_id, updated_by=user)


def _subtree_height(section: Section) -> int:
    deepest = (
        Section.objects.filter(
            tree_id=section.tree_id, lft__gte=section.lft, rght__lte=section.rght
        )
        .order_by("-level")
        .values_list("level", flat=True)
        .first()
    )
    return (deepest or section.level) - section.level


def _siblings(section: Section):
    return Section.objects.filter(
        tree_id=section.tree_id, parent_id=section.parent_id, trashed_at__isnull=True
    ).order_by("lft")


@retry_deadlocks
def shift_section(*, section: Section, direction: str, user=None) -> Section:
    """Keyboard/button moves: up, down, indent (under the previous sibling), outdent."""
    if direction not in {"up", "down", "indent", "outdent"}:
        raise TreeError(_("未知的移动方向。"))
    with transaction.atomic():
        # Siblings are read under the manual lock, so they are the ones the move sees.
        manual = lock_manual(section.manual_id)
        _check_writable(manual, user)
        section = fresh_section(section.pk)
        if section.is_root:
            raise TreeError(_("手册根节点不能移动。"))
        if section.trashed_at is not None:
            raise TreeError(_("回收站里的章节不能移动。"))
        siblings = list(_siblings(section))
        index = next(i for i, s in enumerate(siblings) if s.pk == section.pk)
        if direction == "up":
            if index == 0:
                raise TreeError(_("已经是第一个了。"))
            target, position = siblings[index - 1], "left"
        elif direction == "down":
            if index == len(siblings) - 1:
                raise TreeError(_("已经是最后一个了。"))
            target, position = siblings[index + 1], "right"
        elif direction == "indent":
            if index == 0:
                raise TreeError(_("前面没有同级章节，无法降级。"))
            target, position = siblings[index - 1], "last-child"
        else:
            parent = fresh_section(section.parent_id)
            if parent.is_root:
                raise TreeError(_("已经是一级章节了。"))
            target, position = parent, "right"
        return move_section(section=section, target=target, position=position, user=user)


@retry_deadlocks
def save_section_content(
    *, section: Section, expected_version: int, content: SectionContent, user=None, note=""
) -> Section:
    """Save an edit unless someone saved since ``expected_version`` (then EditConflict)."""
    title = clean_title(content.title)
    check_choices(content.kind, content.visibility)
    check_body(content.body, title=title)
    with transaction.atomic():
        manual = lock_manual(section.manual_id)
        _check_writable(manual, user)
        section = fresh_section(section.pk)
        if section.trashed_at is not None:
            raise TreeError(_("这一节在回收站里，请先恢复。"))
        if section.version != expected_version:
            raise EditConflict(section)
        section.title = title
        section.body = own_pictures_only(manual.pk, [content.body])[0]
        section.kind = content.kind
        section.visibility = content.visibility
        section.version += 1
        section.updated_at = timezone.now()
        section.updated_by = user
        section.save(
            update_fields=["title", "body", "kind", "visibility", "version", "updated_at",
                           "updated_by"]
        )  # fmt: skip
        section.refresh_from_db(fields=["body"])
        _record_revision(section, user=user, note=note)
        if user is not None:
            # What they typed is saved now: the draft would only offer it again.
            Draft.objects.filter(section=section, user=user).delete()
        if section.is_root:
            Manual.objects.filter(pk=manual.pk).update(title=title, updated_at=section.updated_at)
            notify_changed(manual.pk, None)
        else:
            notify_changed(manual.pk, _subtree_ids(section))
    return section


def restore_revision(
    *,
    revision: Revision,
    expected_version: int,
    user=None,
    with_visibility: bool = False,
    with_kind: bool = False,
) -> Section:
    """Bring back an old version's title and text as a new version. The section keeps its
    current visibility and kind unless the owner asks for the old ones too (never silently:
    an old 仅自己 version restored must not become shared, nor a shared one private)."""
    current = fresh_section(revision.section_id)
    content = SectionContent(
        title=revision.title,
        body=revision.body,
        kind=revision.kind if with_kind else current.kind,
        visibility=revision.visibility if with_visibility else current.visibility,
    )
    return save_section_content(
        section=revision.section,
        expected_version=expected_version,
        content=content,
        user=user,
        note=_("恢复自版本 %(v)d") % {"v": revision.version},
    )


@retry_deadlocks
def trash_section(*, section: Section, user=None) -> Section:
    """Move a section and its subtree to the trash; it keeps its place in the tree."""
    with transaction.atomic():
        manual = lock_manual(section.manual_id)
        _check_writable(manual, user)
        section = fresh_section(section.pk)
        if section.is_root:
            raise TreeError(_("手册根节点不能删除。"))
        if section.trashed_at is not None:
            raise TreeError(_("这一节已经在回收站里了。"))
        now = timezone.now()
        Section.objects.filter(
            tree_id=section.tree_id,
            lft__gte=section.lft,
            rght__lte=section.rght,
            trashed_at__isnull=True,
        ).update(trashed_at=now, updated_by=user)
        Section.objects.filter(pk=section.pk).update(trashed_root=True)
        notify_changed(manual.pk, _subtree_ids(section))
    return fresh_section(section.pk)


@retry_deadlocks
def restore_section(*, section: Section, user=None) -> Section:
    """Bring a trashed subtree back where it was, or to the end if that place is gone."""
    with transaction.atomic():
        manual = lock_manual(section.manual_id)
        _check_writable(manual, user)
        section = fresh_section(section.pk)
        if not section.trashed_root:
            raise TreeError(_("这一节不在回收站里。"))
        parent_gone = Section.objects.filter(
            tree_id=section.tree_id,
            lft__lt=section.lft,
            rght__gt=section.rght,
            trashed_at__isnull=False,
        ).exists()
        if parent_gone:
            _move_subtree(section, fresh_section(manual.root_id), "last-child", user=user)
            section = fresh_section(section.pk)
        Section.objects.filter(
            tree_id=section.tree_id,
            lft__gte=section.lft,
            rght__lte=section.rght,
            trashed_at=section.trashed_at,
        ).update(trashed_at=None, trashed_root=False, updated_by=user)
        notify_changed(manual.pk, _subtree_ids(section))
    return fresh_section(section.pk)


@retry_deadlocks
def purge_section(*, section: Section, user=None) -> None:
    """Delete a trashed subtree for good (only from the trash)."""
    with transaction.atomic():
        manual = lock_manual(section.manual_id)
        _check_writable(manual, user)
        section = fresh_section(section.pk)
        if not section.trashed_root:
            raise TreeError(_("只能永久删除回收站里的章节。"))
        deleted_ids = _subtree_ids(section)
        if manual.is_template:
            # Clones' copies lose their link to these rows; they keep the news that the
            # template removed them (manuals.team_templates.removals offers them to the agent).
            Section.objects.filter(template_section_id__in=deleted_ids).update(
                template_removed_at=timezone.now()
            )
        section.delete()
        sections_deleted.send(sender=Section, manual_id=manual.pk, section_ids=deleted_ids)
