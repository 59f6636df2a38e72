"""Handover and rotation: a subtree to a colleague (copy or move, with a note), a leaving
agent's whole manual to a successor, or archived read-only. Nothing is deleted: a moved
subtree goes to the giver's trash (restorable), an archived manual stays readable. Every
step lands in the activity log (``Activity``) that both sides and the lead see.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from manuals import tree
from manuals.access import lead_of, owner_or_lead
from manuals.circulation.copying import copy_subtree
from manuals.models import Activity, Manual, Section, member_of
from manuals.tree import TreeError, retry_deadlocks

COPY = "copy"
MOVE = "move"


class HandoverRefused(TreeError):
    """A handover we refuse; the message is for the user."""


def can_hand_over_from(user, manual: Manual) -> bool:
    """The owner of a manual, or the lead of its team."""
    return not manual.is_template and owner_or_lead(user, manual)


def handover_targets(user, manual: Manual):
    """Colleagues' live manuals a subtree of ``manual`` can be handed to (never the lead's
    own: a lead hands colleagues' work on, and does not take it for themselves)."""
    return (
        Manual.objects.readable_by(user)
        .filter(team_id=manual.team_id, is_template=False, archived_at__isnull=True)
        .exclude(owner_id=manual.owner_id)
        .exclude(owner_id=user.pk)
        .select_related("owner__member")
        .order_by("owner__username", "pk")
    )


def _check_target(user, source_manual: Manual, to_manual: Manual) -> None:
    if to_manual.team_id != source_manual.team_id or member_of(user) is None:
        raise HandoverRefused(_("只能交接给本团队的同事。"))
    if to_manual.archived_at is not None:
        raise HandoverRefused(_("对方的手册已归档（只读），不能交接进去。"))
    if to_manual.is_template:
        raise HandoverRefused(_("不能交接到团队模板里；模板由主管直接编辑。"))
    if to_manual.owner_id == source_manual.owner_id:
        raise HandoverRefused(_("交接的对象必须是另一位同事的手册。"))
    if to_manual.owner_id == user.pk:
        raise HandoverRefused(_("主管不能把同事的章节交接给自己。"))


def _landing_place(source: Section, to_manual: Manual) -> Section | None:
    """Under the receiver's chapter of the same name (e.g. 管理制度), else a new chapter."""
    if source.level <= 1:
        return None
    chapter_title = (
        Section.objects.ancestors_of(source).filter(level=1).values_list("title", flat=True).first()
    )
    return (
        Section.objects.filter(
            manual=to_manual, level=1, title=chapter_title, trashed_at__isnull=True
        )
        .in_outline_order()
        .first()
    )


@retry_deadlocks
def hand_over_subtree(
    *, section: Section, to_manual: Manual, mode: str, note: str = "", user
) -> Activity:
    """Give ``section`` and its subtree to the owner of ``to_manual``."""
    if mode not in (COPY, MOVE):
        raise HandoverRefused(_("未知的交接方式。"))
    section = Section.objects.select_related("manual").get(pk=section.pk)
    source_manual = section.manual
    if not can_hand_over_from(user, source_manual):
        raise HandoverRefused(_("只有手册的主人或团队主管可以交接这些章节。"))
    if section.is_root:
        raise HandoverRefused(_("请选择要交接的章节；整本手册的转交由主管操作。"))
    if section.trashed_at is not None:
        raise HandoverRefused(_("这一节在回收站里，请先恢复。"))
    if mode == MOVE and source_manual.archived_at is not None:
        raise HandoverRefused(_("归档的手册是只读的，只能复制交接。"))
    to_manual = Manual.objects.get(pk=to_manual.pk)
    _check_target(user, source_manual, to_manual)
    # What travels is what the giver may read: all of it for the owner, for a lead only
    # what is shared with the lead or the team (a 仅自己 section is its owner's alone).
    reader = source_manual.owner if user.pk == source_manual.owner_id else user
    if reader != source_manual.owner:
        subtree = Section.objects.subtree_of(section).live()
        if not subtree.readable_by(reader).filter(pk=section.pk).exists():
            raise HandoverRefused(_("这一节不在这本手册里。"))  # as for an id that is not there
        if mode == MOVE and subtree.count() != subtree.readable_by(reader).count():
            raise HandoverRefused(
                _("这一节下面有同事的私有内容：只能复制能看到的部分，移交请让手册的主人来做。")
            )
    note = (note or "").strip()
    with transaction.atomic():
        # Both manuals locked in id order: two crossing handovers never deadlock.
        tree.lock_manuals(source_manual.pk, to_manual.pk)
        new_rows = copy_subtree(
            source=section,
            target_manual=to_manual,
            parent=_landing_place(section, to_manual),
            user=user,
            read_as=reader,
            visibility=None,
            keep_history=mode == MOVE,
            check_write=False,
        )
        if mode == MOVE:
            tree.trash_section(section=section, user=None)
        activity = Activity.objects.create(
            team_id=source_manual.team_id,
            kind=Activity.Kind.MOVE if mode == MOVE else Activity.Kind.COPY,
            actor=user,
            from_user_id=source_manual.owner_id,
            to_user_id=to_manual.owner_id,
            from_manual=source_manual,
            to_manual=to_manual,
            source_section=section,
            new_section=new_rows[0],
            title=section.title,
            section_count=len(new_rows),
            note=note,
        )
    return activity


def _check_lead(user, manual: Manual) -> None:
    if lead_of(user, manual.team_id) is None:
        raise HandoverRefused(_("只有本团队的主管可以转交或归档整本手册。"))
    if manual.is_template:
        raise HandoverRefused(_("团队模板请在“团队模板”页面管理。"))


@retry_deadlocks
def transfer_manual(
    *, manual: Manual, successor, note: str = "", user, reopen: bool = False
) -> Activity:
    """A leaving agent's whole manual (every section, picture and revision) to a successor.

    An archived manual stays archived (read-only) with its new owner unless ``reopen``: the
    lead archived it on purpose, and only the lead's explicit choice undoes that (logged as
    its own entry, like the archive page's button)."""
    _check_lead(user, manual)
    if successor.pk == user.pk:
        raise HandoverRefused(_("不能把同事的整本手册转交给自己。"))
    successor_member = member_of(successor)
    if successor_member is None or successor_member.team_id != manual.team_id:
        raise HandoverRefused(_("接手的同事必须是本团队的成员。"))
    with transaction.atomic():
        manual = tree.lock_manual(manual.pk)
        if manual.owner_id == successor.pk:
            raise HandoverRefused(_("这本手册已经属于这位同事了。"))
        previous_owner_id = manual.owner_id
        manual.owner = successor
        manual.save(update_fields=["owner", "updated_at"])
        activity = Activity.objects.create(
            team_id=manual.team_id,
            kind=Activity.Kind.TRANSFER,
            actor=user,
            from_user_id=previous_owner_id,
            to_user=successor,
            from_manual=manual,
            to_manual=manual,
            title=manual.title,
            section_count=manual.live_sections().filter(level__gt=0).count(),
            note=(note or "").strip(),
        )
        if reopen and manual.archived_at is not None:
            set_archived(manual=manual, archived=False, user=user)
        tree.notify_changed(manual.pk, None)
    return activity


@retry_deadlocks
def set_archived(*, manual: Manual, archived: bool, note: str = "", user) -> Activity:
    """Archive a manual read-only (readable as before, writable by nobody) or reopen it."""
    _check_lead(user, manual)
    with transaction.atomic():
        manual = tree.lock_manual(manual.pk)
        if archived == (manual.archived_at is not None):
            raise HandoverRefused(
                _("这本手册已经归档了。") if archived else _("这本手册没有归档。")
            )
        manual.archived_at = timezone.now() if archived else None
        manual.save(update_fields=["archived_at", "updated_at"])
        activity = Activity.objects.create(
            team_id=manual.team_id,
            kind=Activity.Kind.ARCHIVE if archived else Activity.Kind.UNARCHIVE,
            actor=user,
            from_user_id=manual.owner_id,
            from_manual=manual,
            title=manual.title,
            section_count=manual.live_sections().filter(level__gt=0).count(),
            note=(note or "").strip(),
        )
        tree.notify_changed(manual.pk, None)
    return activity


def successors_for(manual: Manual, *, lead=None):
    """Team members who could take over ``manual`` (not the lead who hands it on: a lead
    transferring a manual to themselves would read every 仅自己 section)."""
    return (
        get_user_model()
        .objects.filter(member__team_id=manual.team_id, is_active=True)
        .exclude(pk=manual.owner_id)
        .exclude(pk=getattr(lead, "pk", None))
        .select_related("member")
        .order_by("username")
    )
