"""Template tags for the team-template partials included in the editor's pages (day one,
the templates menu, pending template updates) and the handover menu."""

from django import template

from manuals.access import lead_of
from manuals.models import Manual, member_of
from manuals.team_templates.removals import removed_count
from manuals.team_templates.sync import pending_count

register = template.Library()


@register.simple_tag
def live_templates(user):
    """The team templates a user may start a manual from."""
    member = member_of(user)
    if member is None:
        return Manual.objects.none()
    return Manual.objects.filter(
        team_id=member.team_id, is_template=True, archived_at__isnull=True
    ).order_by("created_at", "pk")


@register.simple_tag
def pending_template_updates(manual) -> int:
    """How many template updates (and removals) the owner of ``manual`` has not decided on."""
    if manual is None or manual.is_template:
        return 0
    removed = removed_count(manual=manual)
    if manual.template_id is None:
        return removed
    return pending_count(manual=manual) + removed


@register.simple_tag
def is_team_lead(user, manual=None) -> bool:
    return lead_of(user, manual.team_id if manual is not None else None) is not None
