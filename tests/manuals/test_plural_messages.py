"""Counts in messages read naturally in English: "1 section", "3 sections", never "(s)"."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from manuals.documents.importing import read_document
from manuals.team_templates.cloning import clone_template
from manuals.team_templates.default_template import ensure_default_template
from manuals.tree import SectionContent, save_section_content
from tests.conftest import section_titled
from tests.manuals.documents import pandoc_docx


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def equation_warnings(folder, count: int) -> list[str]:
    formulas = " ".join(f"$x^{n}$" for n in range(2, 2 + count))
    return read_document(pandoc_docx(folder, f"# 公式\n\n面积：{formulas}\n")).warnings


def test_import_warnings_count_one_and_several_in_english(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    with translation.override("en"):
        one = equation_warnings(tmp_path / "one", 1)
        two = equation_warnings(tmp_path / "two", 2)
    assert "1 equation could not be imported and was skipped." in one
    assert "2 equations could not be imported and were skipped." in two
    assert not any("(s)" in warning for warning in one + two)


def test_import_warnings_stay_chinese_by_default(tmp_path):
    assert "1 个公式无法导入，已略过。" in equation_warnings(tmp_path, 1)


def test_handing_over_one_section_and_a_chapter_in_english(
    english, alice_manual, alice, bob_manual
):
    english.force_login(alice)
    single = section_titled(alice_manual, "质检标准")
    chapter = section_titled(alice_manual, "工作复盘")  # with a case and its two parts
    pages = []
    for section in (single, chapter):
        response = english.post(
            reverse("manuals:hand_over", args=[alice_manual.pk]),
            {"section": section.pk, "to_manual": bob_manual.pk, "mode": "copy", "note": ""},
            follow=True,
        )
        pages.append(response.content.decode())
    assert "Handed over “质检标准” (1 section) to 李波." in pages[0]
    assert "Handed over “工作复盘” (4 sections) to 李波." in pages[1]
    # The activity log lists both handovers with the same grammar.
    assert "“质检标准” (1 section)" in pages[1]
    assert "“工作复盘” (4 sections)" in pages[1]
    assert "(s)" not in pages[1]


def test_accepting_one_template_update_says_one_update(english, lena, alice):
    template = ensure_default_template(team=lena.member.team)
    clone = clone_template(template=template, owner=alice)
    phrases = section_titled(template, "常用话术")
    save_section_content(
        section=phrases,
        expected_version=phrases.version,
        content=SectionContent(
            title=phrases.title, body="<p>第二版</p>", kind=phrases.kind,
            visibility=phrases.visibility,
        ),
        user=lena,
    )  # fmt: skip
    english.force_login(alice)
    response = english.post(
        reverse("manuals:template_updates_accept_all", args=[clone.pk]), follow=True
    )
    page = response.content.decode()
    assert "Adopted 1 update;" in page
    assert "update(s)" not in page
