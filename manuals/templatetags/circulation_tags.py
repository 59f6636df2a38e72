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


@register.simple_tag
def pending_template_updates(manual) -> int:
    """How many template updates (and removals) the owner of ``manual`` has not decided on."""
    from manuals.template_removals import removed_count
    from manuals.template_sync import pending_count

    if manual is None or manual.is_template:
        return 0
    removed = removed_count(manual=manual)
    if manual.template_id is None:
        return removed
    return pending_count(manual=manual) + removed


@register.simple_tag
def is_team_lead(user, manual=None) -> bool:
    member = member_of(user)
    if member is None or not member.is_lead:
        return False
    return manual is None or manual.team_id == member.team_id
