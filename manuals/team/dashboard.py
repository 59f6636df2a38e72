"""What a lead sees of the team's recording habit: who writes, how much, how recently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from manuals.models import Manual, Member, Revision, Section, Team


@dataclass
class AgentActivity:
    member: Member
    manuals: list[Manual]
    sections: int
    shared: int
    retrospectives: int
    edits_7d: int
    edits_30d: int
    last_edit: datetime | None

    @property
    def idle_days(self) -> int | None:
        if self.last_edit is None:
            return None
        return (timezone.now() - self.last_edit).days


def team_activity(*, team: Team) -> list[AgentActivity]:
    """One row per team member, in a fixed number of queries whatever the team's size."""
    now = timezone.now()
    members = list(Member.objects.filter(team=team).select_related("user").order_by("role"))
    manuals: dict[int, list[Manual]] = {}
    for manual in Manual.objects.filter(team=team, is_template=False).order_by("title"):
        manuals.setdefault(manual.owner_id, []).append(manual)
    counts = {
        row["manual__owner_id"]: row
        for row in Section.objects.filter(
            manual__team=team, manual__is_template=False, level__gt=0, trashed_at__isnull=True
        )
        .values("manual__owner_id")
        .annotate(
            sections=Count("id"),
            shared=Count("id", filter=Q(visibility=Section.Visibility.SHARED)),
            retrospectives=Count("id", filter=Q(kind=Section.Kind.RETROSPECTIVE)),
        )
    }
    edits = {
        row["author_id"]: row
        for row in Revision.objects.filter(
            section__manual__team=team, section__manual__is_template=False
        )
        .values("author_id")
        .annotate(
            edits_7d=Count("id", filter=Q(created_at__gte=now - timedelta(days=7))),
            edits_30d=Count("id", filter=Q(created_at__gte=now - timedelta(days=30))),
            last_edit=Max("created_at"),
        )
    }
    rows = []
    for member in members:
        count = counts.get(member.user_id, {})
        edit = edits.get(member.user_id, {})
        rows.append(
            AgentActivity(
                member=member,
                manuals=manuals.get(member.user_id, []),
                sections=count.get("sections", 0),
                shared=count.get("shared", 0),
                retrospectives=count.get("retrospectives", 0),
                edits_7d=edit.get("edits_7d", 0),
                edits_30d=edit.get("edits_30d", 0),
                last_edit=edit.get("last_edit"),
            )
        )
    # The people who have gone quiet longest come first: they are whom the lead asks.
    rows.sort(key=lambda r: (r.last_edit is not None, r.last_edit or now))
    return rows
