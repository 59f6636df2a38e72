"""Directory login against a real OpenLDAP (Debian's slapd, started here): people in a
mapped group log in with their directory password and land in the mapped team."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from config.directory import directory_settings
from manuals.models import Manual, Member, Team
from manuals.team_templates.default_template import ensure_default_template
from tests.conftest import PASSWORD
from tests.ldapserver import running_slapd, slapd_available

pytestmark = pytest.mark.skipif(not slapd_available(), reason="needs Debian's slapd")

User = get_user_model()


@pytest.fixture(scope="module")
def directory():
    with running_slapd() as directory:
        people, groups = f"ou=people,{directory.suffix}", f"ou=groups,{directory.suffix}"
        for uid, name in [("mei", "林梅"), ("jun", "王军"), ("finance", "财务小张")]:
            directory.add(
                f"uid={uid},{people}",
                objectClass="inetOrgPerson", uid=uid, cn=name, sn=name, displayName=name,
                userPassword=f"{uid}-directory-pw", mail=f"{uid}@corp.example",
            )  # fmt: skip
        directory.add(
            f"cn=aftersales,{groups}", objectClass="groupOfNames", cn="aftersales",
            member=[f"uid=mei,{people}", f"uid=jun,{people}"],
        )  # fmt: skip
        directory.add(
            f"cn=leads,{groups}",
            objectClass="groupOfNames",
            cn="leads",
            member=[f"uid=jun,{people}"],
        )
        directory.add(
            f"cn=finance,{groups}", objectClass="groupOfNames", cn="finance",
            member=[f"uid=finance,{people}"],
        )  # fmt: skip
        yield directory


@pytest.fixture
def directory_login(settings, directory):
    groups = f"ou=groups,{directory.suffix}"
    env = {
        "LANBITOU_LDAP_URI": directory.uri,
        "LANBITOU_LDAP_BIND_DN": directory.admin_dn,
        "LANBITOU_LDAP_BIND_PASSWORD": directory.admin_password,
        "LANBITOU_LDAP_USER_BASE": f"ou=people,{directory.suffix}",
        "LANBITOU_LDAP_GROUP_BASE": groups,
        "LANBITOU_LDAP_TEAMS": f'{{"cn=aftersales,{groups}": "售后一组"}}',
        "LANBITOU_LDAP_LEAD_GROUP": f"cn=leads,{groups}",
    }
    for name, value in directory_settings(env, backends=settings.AUTHENTICATION_BACKENDS).items():
        setattr(settings, name, value)


def log_in(username: str, password: str) -> tuple[Client, object]:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response


def test_a_directory_user_lands_in_the_mapped_team_with_a_manual_from_its_template(
    directory_login, team, lena
):
    template = ensure_default_template(team=team)
    client, response = log_in("mei", "mei-directory-pw")
    assert response.status_code == 302
    mei = User.objects.get(username="mei")
    assert mei.email == "mei@corp.example"
    assert mei.member.team == team and mei.member.display_name == "林梅"
    assert mei.member.role == Member.Role.AGENT
    manual = Manual.objects.get(owner=mei, is_template=False)
    assert manual.template == template
    assert manual.title in client.get(reverse("manuals:home")).content.decode()
    assert not mei.has_usable_password()  # the directory holds the password, not us


def test_a_member_of_the_lead_group_joins_as_lead(directory_login, db):
    _client, response = log_in("jun", "jun-directory-pw")
    assert response.status_code == 302
    jun = User.objects.get(username="jun")
    assert jun.member.role == Member.Role.LEAD
    assert jun.member.team == Team.objects.get(name="售后一组")


def test_a_second_login_makes_no_second_manual(directory_login, team, lena):
    ensure_default_template(team=team)
    log_in("mei", "mei-directory-pw")
    log_in("mei", "mei-directory-pw")
    assert Manual.objects.filter(owner__username="mei", is_template=False).count() == 1


def test_a_wrong_directory_password_is_refused(directory_login, db):
    _client, response = log_in("mei", "wrong")
    assert response.status_code == 200 and "用户名或密码不对" in response.content.decode()
    assert not User.objects.filter(username="mei").exists()


def test_someone_in_no_mapped_group_gets_no_account(directory_login, db):
    _client, response = log_in("finance", "finance-directory-pw")
    assert response.status_code == 200
    assert not User.objects.filter(username="finance").exists()


def test_a_deactivated_directory_user_cannot_log_in(directory_login, db):
    log_in("mei", "mei-directory-pw")
    User.objects.filter(username="mei").update(is_active=False)
    _client, response = log_in("mei", "mei-directory-pw")
    assert response.status_code == 200


def test_local_accounts_still_log_in_beside_the_directory(directory_login, alice):
    _client, response = log_in("alice", PASSWORD)
    assert response.status_code == 302
