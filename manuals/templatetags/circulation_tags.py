"""Template tags for templates, circulation and handover pages (the partials included in
the editor's pages)."""

from django import template

from manuals.models import Manual, member_of

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
