"""Logins are throttled per account and per address; common passwords are refused."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.conftest import PASSWORD, sign_in


def test_fifty_wrong_passwords_lock_the_account_even_for_the_right_one(client, alice):
    for _ in range(50):
        assert not sign_in(client, "alice", "guess-123456")
    assert not sign_in(client, "alice", PASSWORD)
    page = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert page.status_code == 429
    assert "登录尝试太多" in page.content.decode()
    assert "15 分钟" in page.content.decode()


def test_the_lockout_page_speaks_english_when_chosen(client, alice):
    client.cookies["django_language"] = "en"
    for _ in range(5):
        sign_in(client, "alice", "guess-123456")
    page = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert page.status_code == 429
    html = page.content.decode()
    assert "Too many" in html and "登录" not in html.split("<main", 1)[-1]


def test_one_address_trying_many_accounts_is_locked_out(client, alice, bob, lena):
    for name in ("alice", "bob", "lena", "nobody", "chen"):
        sign_in(client, name, "guess-123456")
    assert not sign_in(client, "bob", PASSWORD)  # same address, right password


def test_another_agent_from_another_address_still_gets_in(client, alice, bob):
    for _ in range(6):
        sign_in(client, "alice", "guess-123456")
    other = client.__class__(REMOTE_ADDR="10.0.0.9")
    assert sign_in(other, "bob", PASSWORD)


def test_a_right_password_before_the_limit_resets_the_count(client, alice):
    for _ in range(4):
        sign_in(client, "alice", "guess-123456")
    assert sign_in(client, "alice", PASSWORD)
    client.logout()
    for _ in range(4):
        sign_in(client, "alice", "guess-123456")
    assert sign_in(client, "alice", PASSWORD)


@pytest.mark.parametrize("password", ["password123", "12345678", "qwertyuiop", "11111111"])
def test_common_and_numeric_passwords_are_refused(password, alice):
    with pytest.raises(ValidationError):
        validate_password(password, user=alice)


def test_logging_into_ones_own_account_does_not_clear_attempts_on_another(client, bob, lena):
    for _ in range(4):  # bob guesses lena's password...
        sign_in(client, "lena", "guess-123456")
    assert sign_in(client, "bob", PASSWORD)  # ...logs in as himself to wipe the slate...
    client.logout()
    sign_in(client, "lena", "guess-123456")  # ...and goes on: the fifth failure counts
    other = client.__class__(REMOTE_ADDR="10.0.0.7")
    assert not sign_in(other, "lena", PASSWORD)  # her account is locked wherever she is
