"""Fixture users that read like a story.

alice (agent, owns a manual), bob (agent, same team), lena (team lead),
carol (agent in another team).
"""

import functools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from manuals.models import Member, Section, Team
from manuals.tree import SectionContent, add_section, create_manual

PASSWORD = "lanbitou-test-pw"


@functools.cache
def _password_hash() -> str:
    """PASSWORD hashed once by the configured (real, deliberately slow) hasher: 0.45 s a
    user here, which was most of the time of tests that make four users each."""
    return make_password(PASSWORD)


def make_user(username: str, team: Team, role: str = Member.Role.AGENT, name: str = ""):
    # One INSERT holding a hash of PASSWORD, as create_user(password=PASSWORD) stores one.
    user = get_user_model().objects.create(username=username, password=_password_hash())
    Member.objects.create(user=user, team=team, role=role, display_name=name)
    return user


@pytest.fixture
def team(db):
    return Team.objects.create(name="售后一组")


@pytest.fixture
def other_team(db):
    return Team.objects.create(name="售前二组")


@pytest.fixture
def alice(team):
    return make_user("alice", team, name="王丽")


@pytest.fixture
def bob(team):
    return make_user("bob", team, name="李波")


@pytest.fixture
def lena(team):
    return make_user("lena", team, Member.Role.LEAD, name="陈娜")


@pytest.fixture
def carol(other_team):
    return make_user("carol", other_team, name="赵可")


def build_manual(owner, title, outline):
    """outline: list of (title, children) tuples; returns the manual."""
    manual = create_manual(owner=owner, title=title)

    def add(parent, items):
        for item_title, children in items:
            section = add_section(
                manual=manual,
                target=parent,
                content=SectionContent(title=item_title, body=f"<p>{item_title}的内容</p>"),
            )
            add(section, children)

    add(None, outline)
    manual.refresh_from_db()
    return manual


@pytest.fixture
def alice_manual(alice):
    return build_manual(
        alice,
        "王丽的工作手册",
        [
            ("管理制度", [("考勤制度", []), ("质检标准", [])]),
            ("工作复盘", [("2024-03 退款纠纷", [("客户情绪", []), ("我的处理", [])])]),
            ("项目资料", []),
            ("学习工具", []),
        ],
    )


@pytest.fixture
def bob_manual(bob):
    return build_manual(bob, "李波的工作手册", [("管理制度", [("请假流程", [])])])


def section_titled(manual, title) -> Section:
    return Section.objects.get(manual=manual, title=title)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    """Uploaded files of one test never land in var/ or leak into another test."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    return settings.MEDIA_ROOT


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls that the
    # tests make between browser steps are still plain synchronous ones.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    # Whatever a test does, the app itself must run under its Content-Security-Policy.
    blocked: list[str] = []
    page.on(
        "console",
        lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield page
    context.close()
    assert blocked == [], "the page broke its own Content-Security-Policy"


def log_in(page, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture(autouse=True)
def _search_index_dir(settings, tmp_path):
    """Each test gets its own (initially missing) search index directory."""
    settings.SEARCH_INDEX_DIR = tmp_path / "data" / "index"


def sign_in(client, username: str, password: str) -> bool:
    """Log in through the real login page (throttling included), like a person would.
    Django's ``client.login()`` skips the request that django-axes needs."""
    client.post(reverse("login"), {"username": username, "password": password})
    return "_auth_user_id" in client.session


def wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll ``expression`` in the page until it is true. Playwright's wait_for_function
    evaluates strings with eval() inside the page, which our Content-Security-Policy
    forbids (as it should); page.evaluate() goes through the debugging protocol instead."""
    import time

    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except PlaywrightError:
            pass  # the page is navigating (a reload after a move): ask the next one
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL server for the module's tests (multi-process ones too)."""
    from tests.pgserver import postgres_bin_dir, running_postgres

    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries are not installed (make test installs them)")
    with running_postgres(bin_dir) as url:
        yield url
