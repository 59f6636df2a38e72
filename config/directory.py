"""Settings for the optional directory login (LDAP / Active Directory), from the
environment. Imported by settings.py only when LANBITOU_LDAP_URI is set, so a site
without a directory never loads python-ldap.

LANBITOU_LDAP_URI            ldap://dc.example.com (ldaps://… for TLS)
LANBITOU_LDAP_START_TLS      1 to upgrade ldap:// with StartTLS
LANBITOU_LDAP_BIND_DN / _PASSWORD   a read-only service account (empty: anonymous search)
LANBITOU_LDAP_USER_BASE      ou=people,dc=example,dc=com
LANBITOU_LDAP_USER_FILTER    (uid=%(user)s); Active Directory: (sAMAccountName=%(user)s)
LANBITOU_LDAP_GROUP_BASE     ou=groups,dc=example,dc=com
LANBITOU_LDAP_GROUP_TYPE     groupOfNames (default), groupOfUniqueNames, activeDirectory
LANBITOU_LDAP_TEAMS          JSON {"<group DN>": "<team name>", …}: who may log in, into which team
LANBITOU_LDAP_LEAD_GROUP     members of this group DN join their team as lead (主管)
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
DIRECTORY_BACKEND = "manuals.accounts.directory.DirectoryBackend"


def directory_settings(env: Mapping[str, str], *, backends: list[str]) -> dict:
    """The AUTH_LDAP_* settings, and ``backends`` with the directory just before the local
    accounts' ModelBackend (anything before it, like a login throttle, stays first)."""
    import ldap
    from django_auth_ldap import config

    def get(name: str, default: str = "") -> str:
        return env.get(f"LANBITOU_LDAP_{name}", default)

    try:
        teams = json.loads(get("TEAMS", "{}"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"LANBITOU_LDAP_TEAMS must be JSON: {exc}") from None
    if not isinstance(teams, dict) or not teams:
        raise ImproperlyConfigured(
            'LANBITOU_LDAP_TEAMS must map group DNs to team names: {"cn=…": "售后一组"}'
        )
    group_types = {
        "groupofnames": config.GroupOfNamesType,
        "groupofuniquenames": config.GroupOfUniqueNamesType,
        "activedirectory": config.NestedActiveDirectoryGroupType,
    }
    group_type = group_types.get(get("GROUP_TYPE", "groupOfNames").lower())
    if group_type is None:
        raise ImproperlyConfigured("LANBITOU_LDAP_GROUP_TYPE: " + ", ".join(group_types))
    required = None
    for dn in teams:  # only people in a mapped group get an account
        required = (
            config.LDAPGroupQuery(dn) if required is None else required | config.LDAPGroupQuery(dn)
        )
    return {
        "AUTHENTICATION_BACKENDS": _with_directory(backends),
        "AUTH_LDAP_SERVER_URI": get("URI"),
        "AUTH_LDAP_START_TLS": get("START_TLS", "0") in {"1", "true", "yes"},
        "AUTH_LDAP_BIND_DN": get("BIND_DN"),
        "AUTH_LDAP_BIND_PASSWORD": get("BIND_PASSWORD"),
        "AUTH_LDAP_USER_SEARCH": config.LDAPSearch(
            get("USER_BASE"), ldap.SCOPE_SUBTREE, get("USER_FILTER", "(uid=%(user)s)")
        ),
        "AUTH_LDAP_GROUP_SEARCH": config.LDAPSearch(get("GROUP_BASE"), ldap.SCOPE_SUBTREE),
        "AUTH_LDAP_GROUP_TYPE": group_type(),
        "AUTH_LDAP_REQUIRE_GROUP": required,
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CONNECTION_OPTIONS": {ldap.OPT_REFERRALS: 0, ldap.OPT_NETWORK_TIMEOUT: 5},
        "LANBITOU_LDAP_TEAMS": teams,
        "LANBITOU_LDAP_LEAD_GROUP": get("LEAD_GROUP"),
    }


def _with_directory(backends: list[str]) -> list[str]:
    others = [b for b in backends if b != DIRECTORY_BACKEND]
    at = others.index(MODEL_BACKEND) if MODEL_BACKEND in others else len(others)
    return [*others[:at], DIRECTORY_BACKEND, *others[at:]]  # local accounts keep working
