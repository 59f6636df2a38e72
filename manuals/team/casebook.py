"""The team's casebook: sections a lead marked as 优秀案例 (excellent cases)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from manuals.access import lead_of
from manuals.models import ExcellentCase, Section


class CasebookError(Exception):
    """A refused casebook change; the message is for the user."""


def can_curate(user, section: Section) -> bool:
    return lead_of(user, section.manual.team_id) is not None


def mark_excellent(*, section: Section, user, note: str = "") -> ExcellentCase:
    if not can_curate(user, section):
        raise CasebookError(_("只有本团队的主管可以评选优秀案例。"))
    if section.trashed_at is not None or section.is_root:
        raise CasebookError(_("这一节不能评为优秀案例。"))
    with transaction.atomic():
        case, _created = ExcellentCase.objects.update_or_create(
            section=section, defaults={"marked_by": user, "note": note.strip()[:300]}
        )
    return case


def unmark_excellent(*, section: Section, user) -> None:
    if not can_curate(user, section):
        raise CasebookError(_("只有本团队的主管可以评选优秀案例。"))
    ExcellentCase.objects.filter(section=section).delete()


def casebook_for(user, *, kind: str = ""):
    """Excellent cases the user may read (the lead sees all of the team's)."""
    readable = Section.objects.readable_by(user).live()
    cases = ExcellentCase.objects.filter(section__in=readable).select_related(
        "section", "section__manual", "section__manual__owner__member", "marked_by__member"
    )
    if kind:
        cases = cases.filter(section__kind=kind)
    return cases
