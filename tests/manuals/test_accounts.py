"""A lead runs the team's accounts: new hires with one-time set-password links, CSV bulk
add, leavers, password resets; everyone changes their own password."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from manuals.models import Manual, Member
from manuals.team_templates.default_template import ensure_default_template
from tests.conftest import PASSWORD, sign_in

User = get_user_model()
NEW_PASSWORD = "Qiu-shui-2026-hai"


def link_in(response) -> str:
    page = response.content.decode()
    return re.search(r'value="http://testserver(/account/set-password/[^"]+)"', page).group(1)


def add_hire(client, username="xiaoli", name="小李", role="agent"):
    return client.post(
        reverse("manuals:add_member"),
        {"username": username, "display_name": name, "role": role, "email": ""},
    )


def test_a_lead_adds_a_hire_whose_manual_comes_from_the_team_template(client, lena, team):
    template = ensure_default_template(team=team)
    client.force_login(lena)
    response = add_hire(client)
    assert response.status_code == 200
    hire = User.objects.get(username="xiaoli")
    assert not hire.has_usable_password()
    assert hire.member.team == team and hire.member.display_name == "小李"
    manual = Manual.objects.get(owner=hire, is_template=False)
    assert manual.template == template
    assert manual.sections.filter(level__gt=0).count() > 0
    assert link_in(response).startswith("/account/set-password/")


def test_the_set_password_link_works_once_and_lands_in_the_manual(client, lena, team):
    client.force_login(lena)
    link = link_in(add_hire(client))
    hire_browser = Client()
    assert "小李" in hire_browser.get(link).content.decode()
    response = hire_browser.post(
        link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    manual = Manual.objects.get(owner__username="xiaoli", is_template=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("manuals:manual", args=[manual.pk])
    assert hire_browser.get(reverse("manuals:home")).status_code == 200  # logged in
    assert Client().get(link).status_code == 404  # used up
    assert sign_in(Client(), "xiaoli", NEW_PASSWORD)


def test_a_forged_link_is_refused(client, alice):
    response = client.get("/account/set-password/Mg/abc-123/")
    assert response.status_code == 404
    assert "链接已失效" in response.content.decode()


def test_a_taken_username_is_refused_with_a_message(client, lena, alice):
    client.force_login(lena)
    response = add_hire(client, username="ALICE")
    assert response.status_code == 400
    assert "这个用户名已被占用" in response.content.decode()


def test_agents_and_other_teams_cannot_manage_accounts(client, alice, carol, lena):
    for user in (alice, carol):  # an agent; an agent of another team
        client.force_login(user)
        assert client.get(reverse("manuals:members")).status_code == 404
        assert add_hire(client).status_code == 404
        url = reverse("manuals:reset_member_password", args=[lena.pk])
        assert client.post(url).status_code == 404
    assert not User.objects.filter(username="xiaoli").exists()
    assert sign_in(Client(), "lena", PASSWORD)


def test_a_lead_of_another_team_cannot_touch_our_members(client, alice, other_team):
    from tests.conftest import make_user

    other_lead = make_user("olga", other_team, Member.Role.LEAD)
    client.force_login(other_lead)
    assert client.post(reverse("manuals:reset_member_password", args=[alice.pk])).status_code == 404
    url = reverse("manuals:set_member_active", args=[alice.pk])
    assert client.post(url, {"active": "0"}).status_code == 404
    alice.refresh_from_db()
    assert alice.is_active and alice.has_usable_password()


def test_a_deactivated_leaver_cannot_log_in_and_keeps_the_manual(client, lena, alice, alice_manual):
    client.force_login(lena)
    client.post(reverse("manuals:set_member_active", args=[alice.pk]), {"active": "0"})
    assert not sign_in(Client(), "alice", PASSWORD)
    assert Manual.objects.filter(pk=alice_manual.pk).exists()
    client.post(reverse("manuals:set_member_active", args=[alice.pk]), {"active": "1"})
    assert sign_in(Client(), "alice", PASSWORD)


def test_a_lead_cannot_deactivate_themselves(client, lena):
    client.force_login(lena)
    client.post(reverse("manuals:set_member_active", args=[lena.pk]), {"active": "0"})
    lena.refresh_from_db()
    assert lena.is_active


def test_a_reset_password_stops_the_old_one_and_gives_a_new_link(client, lena, alice):
    alice_browser = Client()
    alice_browser.force_login(alice)
    client.force_login(lena)
    response = client.post(reverse("manuals:reset_member_password", args=[alice.pk]))
    assert not sign_in(Client(), "alice", PASSWORD)
    assert alice_browser.get(reverse("manuals:home")).status_code == 302  # logged out
    link = link_in(response)
    Client().post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert sign_in(Client(), "alice", NEW_PASSWORD)


def test_a_csv_adds_everyone_or_nobody(client, lena, team, alice):
    client.force_login(lena)
    bad = "username,display_name,role\nxiaoli,小李,agent\nalice,王丽,agent\nxiaowang,,agent\n"
    response = client.post(
        reverse("manuals:add_members_csv"),
        {"file": SimpleUploadedFile("hires.csv", bad.encode())},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "第 3 行" in page and "第 4 行" in page
    assert not User.objects.filter(username="xiaoli").exists()

    good = "用户名,显示名,角色\nxiaoli,小李,客服\nxiaowang,小王,lead\n".encode("gb18030")
    response = client.post(
        reverse("manuals:add_members_csv"), {"file": SimpleUploadedFile("hires.csv", good)}
    )
    assert response.status_code == 200
    assert response.content.decode().count("/account/set-password/") == 2
    assert User.objects.get(username="xiaowang").member.role == Member.Role.LEAD
    assert Manual.objects.filter(owner__username="xiaoli", is_template=False).exists()


@pytest.mark.parametrize("user_fixture", ["alice", "lena"])
def test_everyone_changes_their_own_password(client, request, user_fixture):
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)
    response = client.post(
        reverse("manuals:change_password"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get(reverse("manuals:home")).status_code == 200  # still logged in
    assert sign_in(Client(), user.username, NEW_PASSWORD)


def test_changing_a_password_needs_the_old_one(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("manuals:change_password"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert sign_in(Client(), "alice", PASSWORD)


def test_changing_a_password_needs_a_login(client, db):
    assert client.get(reverse("manuals:change_password")).status_code == 302


def test_the_link_is_also_mailed_when_the_site_has_e_mail(client, lena, settings, mailoutbox):
    settings.LANBITOU_EMAIL_ENABLED = True
    client.force_login(lena)
    response = client.post(
        reverse("manuals:add_member"),
        {"username": "xiaoli", "display_name": "小李", "role": "agent", "email": "li@corp.example"},
    )
    assert "已发送到 li@corp.example" in response.content.decode()
    assert mailoutbox[0].to == ["li@corp.example"]
    assert link_in(response) in mailoutbox[0].body


def test_without_e_mail_the_lead_hands_the_link_over(client, lena, mailoutbox):
    client.force_login(lena)
    client.post(
        reverse("manuals:add_member"),
        {"username": "xiaoli", "display_name": "小李", "role": "agent", "email": "li@corp.example"},
    )
    assert mailoutbox == []


def test_the_members_page_offers_the_handover_of_a_leavers_manual(
    client, lena, alice, alice_manual, django_assert_max_num_queries
):
    client.force_login(lena)
    client.post(reverse("manuals:set_member_active", args=[alice.pk]), {"active": "0"})
    with django_assert_max_num_queries(12):
        page = client.get(reverse("manuals:members")).content.decode()
    row = page.split('data-username="alice"')[1].split("</tr>")[0]
    assert "账号已停用" in row
    assert reverse("manuals:handover", args=[alice_manual.pk]) in row
