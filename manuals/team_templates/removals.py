"""Sections the template removed, offered to the agents whose manuals still have a copy.

A template section is *removed* for a clone when the lead put it in the template's trash
(the copy still points at it) or deleted it for good (the link is cleared and the copy
carries ``template_removed_at`` instead). Nothing happens to the agent's copy until the
agent decides: keep it as their own section (it stops following the template), or move it
to their trash, where it can still be restored. A copy the agent already trashed is not
offered; neither is a removed section inside another removed one (deciding on the outer
one decides for the whole subtree).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from manuals import tree
from manuals.models import Manual, Section
from manuals.tree import TreeError, retry_deadlocks

KEEP = "keep"
DELETE = "delete"

REMOVED = Q(template_section__trashed_at__isnull=False) | Q(template_removed_at__isnull=False)


class RemovalRefused(TreeError):
    """A decision on a removed section that we refuse; the message is for the user."""


@dataclass
class RemovedSection:
    copy: Section  # the agent's live section
    subsections: int  # live sections under it, which go (or stay) with it
    parent_title: str = ""

    @property
    def edited(self) -> bool:
        """The agent changed the copy since they last took the template's version."""
        return self.copy.synced_version is None or self.copy.version != self.copy.synced_version

    @property
    def removed_at(self):
        template_row = self.copy.template_section
        return template_row.trashed_at if template_row else self.copy.template_removed_at


def _live(manual_id: int):
    return Section.objects.filter(manual_id=manual_id, level__gt=0, trashed_at__isnull=True)


def _outermost(rows: list) -> list:
    """``rows`` (of one tree, in tree order) without those inside an earlier one."""
    outer: list = []
    for row in rows:
        if not outer or not outer[-1].is_ancestor_of(row):
            outer.append(row)
    return outer


def removed_sections(*, manual: Manual) -> list[RemovedSection]:
    """The agent's sections whose template section is gone, outermost first, in order."""
    if manual.is_template:
        return []
    rows = _outermost(
        list(_live(manual.pk).filter(REMOVED).select_related("template_section").in_outline_order())
    )
    if not rows:
        return []
    nested = list(_live(manual.pk).within(rows).only("id", *Section.TREE_FIELDS))
    parents = dict(
        Section.objects.filter(pk__in={r.parent_id for r in rows}, level__gt=0).values_list(
            "pk", "title"
        )
    )
    return [
        RemovedSection(
            copy=row,
            subsections=sum(1 for inner in nested if row.is_ancestor_of(inner)),
            parent_title=parents.get(row.parent_id, ""),
        )
        for row in rows
    ]


def removed_count(*, manual: Manual) -> int:
    return removed_counts(manual_ids=[manual.pk]).get(manual.pk, 0)


def removed_counts(*, manual_ids: list[int]) -> dict[int, int]:
    """How many removed sections each manual has to decide on, in one query."""
    rows = (
        Section.objects.filter(REMOVED, manual_id__in=manual_ids, level__gt=0)
        .filter(trashed_at__isnull=True)
        .only("manual_id", *Section.TREE_FIELDS)
        .in_outline_order()  # each manual's rows stay in its tree order below
    )
    by_manual: dict[int, list[Section]] = {}
    for row in rows:
        by_manual.setdefault(row.manual_id, []).append(row)
    return {pk: len(_outermost(found)) for pk, found in by_manual.items()}


@retry_deadlocks
def decide_removed(*, manual: Manual, section_id: int, decision: str, user) -> Section:
    """Keep the agent's copy as their own section, or move it (with its subtree) to their
    trash. Refused when the template has brought the section back meanwhile."""
    if decision not in (KEEP, DELETE):
        raise RemovalRefused(_("未知的选择。"))
    with transaction.atomic():
        manual = tree.lock_manual(manual.pk)
        if user is not None and not manual.can_write(user):
            raise RemovalRefused(_("你不能修改这本手册。"))
        copy = _live(manual.pk).filter(REMOVED, pk=section_id).first()
        if copy is None:
            raise RemovalRefused(_("这一节已不需要处理：模板恢复了它，或者你已经删除或保留了它。"))
        if decision == DELETE:
            return tree.trash_section(section=copy, user=user)
        # The subtree's removed copies become the agent's own: no link, no sync state.
        Section.objects.subtree_of(copy).filter(REMOVED).update(
            template_section=None,
            template_version=None,
            synced_version=None,
            template_removed_at=None,
        )
    return tree.fresh_section(copy.pk)
