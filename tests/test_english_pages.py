"""With English chosen, the pages people work in speak English.

Users' own content (manual and section titles, bodies, names, team names) stays as written;
everything else on the page — headings, buttons, labels, tooltips, placeholders, option
lists — must be English, with no Chinese chrome left over.
"""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse

from manuals.models import Manual, Member, Revision, Section, Team
from tests.conftest import build_manual, log_in, section_titled

# Han characters and Chinese punctuation (not symbols such as the full-width ＋ of a button).
CJK = re.compile(
    r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff" r"\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f]+"
)
# Language names are shown in their own language, as every language menu does.
ALLOWED = {"简体中文"}


class VisibleText(HTMLParser):
    """Collects what a person may see or hear: text and every attribute value (tooltips,
    placeholders, screen-reader labels, and the messages scripts read from data-*)."""

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        self.chunks += [value for _name, value in attrs if value]

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.chunks.append(data)


def user_content() -> list[str]:
    """Everything users typed themselves, longest first so no fragment survives."""
    strings = set()
    for section in Section.objects.all():
        strings.add(section.title)
        strings.update(re.split(r"<[^>]+>", section.body))
    strings.update(Manual.objects.values_list("title", flat=True))
    strings.update(Member.objects.values_list("display_name", flat=True))
    strings.update(Team.objects.values_list("name", flat=True))
    # Revision notes are stored with the revision, in the language of whoever wrote it.
    strings.update(Revision.objects.values_list("note", flat=True))
    return sorted((s for s in strings if s.strip()), key=len, reverse=True)


def chinese_chrome(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    mine = user_content()
    leftovers = []
    for chunk in parser.chunks:
        for text in mine:
            chunk = chunk.replace(text, " ")
        leftovers += [m for m in CJK.findall(chunk) if m not in ALLOWED]
    return leftovers


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def get_english(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.headers["Content-Language"] == "en"
    return response.content.decode()


def test_login_page_is_english(english, db):
    html = get_english(english, reverse("login"))
    assert "Log in to Lanbitou" in html
    assert "Username" in html and "Password" in html
    assert chinese_chrome(html) == []

    response = english.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    html = response.content.decode()
    assert "Wrong username or password" in html
    assert chinese_chrome(html) == []


def test_home_page_is_english(english, alice, alice_manual, bob_manual):
    english.force_login(alice)
    html = get_english(english, reverse("manuals:home"))
    for label in ("My work manual", "My manual", "Excellent cases", "Log out", "Updated"):
        assert label in html
    assert "Colleagues’ manuals" in html
    assert chinese_chrome(html) == []


def test_manual_page_is_english(english, alice, alice_manual):
    english.force_login(alice)
    html = get_english(english, reverse("manuals:manual", args=[alice_manual.pk]))
    for label in ("Outline", "Trash", "Add chapter", "Visibility", "Rules and policies"):
        assert label in html
    assert "9 sections" in html
    assert chinese_chrome(html) == []


def test_counts_use_english_plurals(english, bob, bob_manual):
    english.force_login(bob)
    html = get_english(english, reverse("manuals:manual", args=[bob_manual.pk]))
    assert "2 sections" in html
    single = build_manual(bob, "Leave", [("请假流程", [])])
    html = get_english(english, reverse("manuals:manual", args=[single.pk]))
    assert re.search(r"\b1 section\b", html)


def test_section_page_is_english(english, alice, alice_manual):
    english.force_login(alice)
    section = section_titled(alice_manual, "考勤制度")
    html = get_english(english, reverse("manuals:section", args=[alice_manual.pk, section.pk]))
    for label in ("Edit", "History", "Delete", "Version 1", "Location"):
        assert label in html
    assert "考勤制度的内容" in html  # the user's own words stay as written
    assert chinese_chrome(html) == []


def test_editor_page_is_english(english, alice, alice_manual):
    english.force_login(alice)
    section = section_titled(alice_manual, "考勤制度")
    url = reverse("manuals:edit_section", args=[alice_manual.pk, section.pk])
    html = get_english(english, url)
    for label in (
        "Title",
        "Kind",
        "Visibility",
        "Save",
        "Cancel",
        "Only me",
        "Me and my lead",
        "Shared with team",
        "your team lead",
    ):
        assert label in html
    assert chinese_chrome(html) == []

    # A bad title is refused in English too.
    response = english.post(
        url,
        {
            "title": "",
            "kind": "note",
            "visibility": "private",
            "body": "<p>x</p>",
            "version": section.version,
        },
    )
    html = response.content.decode()
    assert "The title cannot be empty." in html
    assert chinese_chrome(html) == []


@pytest.mark.parametrize(
    "page",
    [
        "trash", "history", "casebook", "team", "templates", "template_updates", "import",
        "handover", "activity", "print", "print_archive", "print_schedule", "search",
        "search_hits",
    ],
)  # fmt: skip
def test_other_pages_people_work_in_are_english(english, lena, alice, alice_manual, page):
    section = section_titled(alice_manual, "考勤制度")
    pages = {  # name: (who looks, url)
        "trash": (alice, reverse("manuals:trash", args=[alice_manual.pk])),
        "history": (alice, reverse("manuals:history", args=[alice_manual.pk, section.pk])),
        "casebook": (lena, reverse("manuals:casebook")),
        "team": (lena, reverse("manuals:team")),
        "templates": (lena, reverse("manuals:templates")),
        "import": (alice, reverse("manuals:import_upload")),
        "handover": (alice, reverse("manuals:handover", args=[alice_manual.pk])),
        "activity": (lena, reverse("manuals:activity")),
        "template_updates": (alice, reverse("manuals:template_updates", args=[alice_manual.pk])),
        "print": (alice, reverse("printing:request", args=[alice_manual.pk])),
        "print_archive": (lena, reverse("printing:archive")),
        "print_schedule": (lena, reverse("printing:schedule")),
        "search": (alice, reverse("search:results")),
        "search_hits": (lena, reverse("search:results") + "?q=content&kind=rule"),
    }
    user, url = pages[page]
    english.force_login(user)
    html = get_english(english, url)
    assert chinese_chrome(html) == []


def test_chinese_stays_the_default(client, alice, alice_manual):
    client.force_login(alice)
    html = client.get(reverse("manuals:manual", args=[alice_manual.pk])).content.decode()
    assert "大纲" in html and "回收站" in html
    assert "Outline" not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_editor_toolbar_follows_the_chosen_language(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    edit_url = f"{page.base_url}/manual/{alice_manual.pk}/section/{section.pk}/edit/"

    def toolbar_titles() -> list[str]:
        page.goto(edit_url)
        page.wait_for_selector(".ProseMirror[contenteditable=true]")
        return page.locator(".prose-menubar__button[title]").evaluate_all(
            "nodes => nodes.map(n => n.getAttribute('title'))"
        )

    # The editor's own strings come from the JavaScript catalog (window.gettext).
    chinese = toolbar_titles()
    assert "列表属性" in chinese
    assert page.evaluate("gettext('Edit Link')") == "编辑链接"  # the link dialog's heading
    assert page.inner_text("button#save") == "保存"

    with page.expect_navigation():  # the language menu submits itself and comes back
        page.select_option("select[name=language]", "en")
    assert page.url == edit_url
    english = toolbar_titles()
    assert "List properties" in english
    assert page.evaluate("gettext('Edit Link')") == "Edit Link"
    assert [t for t in english if CJK.search(t)] == []
    assert page.inner_text("button#save") == "Save"
    assert chinese_chrome(page.content()) == []
