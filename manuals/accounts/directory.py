"""Directory login: people in a mapped LDAP / Active Directory group log in with their
directory password and land in the team the group maps to (settings.LANBITOU_LDAP_TEAMS),
with their manual cloned from the team template on the first login."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django_auth_ldap.backend import LDAPBackend

from manuals.models import Member, Team, member_of
from manuals.team_templates.cloning import start_my_manual

log = logging.getLogger(__name__)


class DirectoryBackend(LDAPBackend):
    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None:
            join_directory_team(user=user, group_dns=ldap_user.group_dns, attrs=ldap_user.attrs)
        return user


def _display_name(attrs) -> str:
    for key in ("displayName", "cn"):
        values = attrs.get(key) or attrs.get(key.lower()) or []
        if values:
            return values[0][:100]
    return ""


def join_directory_team(*, user, group_dns, attrs) -> Member | None:
    """The user's membership as the directory says. A first login joins the mapped team
    (creating it if needed) and gets a manual; later logins refresh name and role but never
    move someone between teams (that is a handover, done by a lead)."""
    groups = {dn.lower() for dn in group_dns}
    team_name = next(
        (team for dn, team in settings.LANBITOU_LDAP_TEAMS.items() if dn.lower() in groups), None
    )
    if team_name is None:
        return None
    lead_group = settings.LANBITOU_LDAP_LEAD_GROUP.lower()
    role = Member.Role.LEAD if lead_group and lead_group in groups else Member.Role.AGENT
    name = _display_name(attrs)
    member = member_of(user)
    if member is not None:
        if member.team.name != team_name:
            log.warning("%s is in team %s, the directory says %s", user, member.team, team_name)
        if (member.role, member.display_name) != (role, name or member.display_name):
            member.role, member.display_name = role, name or member.display_name
            member.save(update_fields=["role", "display_name"])
        return member
    with transaction.atomic():
        team, _created = Team.objects.get_or_create(name=team_name)
        member = Member.objects.create(user=user, team=team, role=role, display_name=name)
    if role == Member.Role.AGENT:
        start_my_manual(user=user)
    return member
