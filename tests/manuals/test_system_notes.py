"""System notes ("新建", "恢复自版本 2", "复制自 …") show in the reader's language,
whichever language they were stored in; the agent's own words show as written."""

import pytest
from django.urls import reverse
from django.utils import translation

from manuals.models import Revision
from manuals.notes import localized_note
from tests.conftest import section_titled

pytestmark = pytest.mark.django_db


def test_known_notes_are_rendered_in_the_readers_language_with_their_parameters():
    with translation.override("en"):
        assert localized_note("新建") == "Created"
        assert localized_note("恢复自版本 2") == "Restored from version 2"
        copied = localized_note("复制自 李波《李波的工作手册》：管理制度 › 请假流程（2026-01-05）")
        assert copied == "Copied from 李波’s “李波的工作手册”: 管理制度 › 请假流程 (2026-01-05)"
        assert localized_note("客户还在跟进") == "客户还在跟进"
    with translation.override("zh-hans"):
        assert localized_note("Restored from version 2") == "恢复自版本 2"


def test_the_english_history_page_shows_english_system_notes(client, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    Revision.objects.filter(section=section).update(note="新建")
    client.force_login(alice)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("manuals:history", args=[alice_manual.pk, section.pk])).content
    assert "<td>Created</td>" in html.decode() and "新建" not in html.decode()
