"""A booklet speaks the language of whoever printed it: 第一章 in Chinese, Chapter 1 in English.

Only the booklet's own words change (contents, edition line, chapter labels); the manual's
text is printed as written.
"""

import re

from django.conf import settings
from django.db import connection
from django.urls import reverse

from manuals.bulk import NewSection, insert_sections
from manuals.tree import create_manual
from printing.booklet import BookletOptions, assemble_booklet
from printing.jobs import run_edition
from printing.models import Edition
from printing.render import render_booklet_pdf
from tests.printing.conftest import long_text, page_texts

HAN = re.compile(r"[\u4e00-\u9fff]")


def small_manual(owner):
    manual = create_manual(owner=owner, title="王丽的工作手册")
    chapters = ["管理制度", "工作复盘", "项目资料", "学习工具", "培训", "质检", "交接", "案例",
                "话术", "升级", "投诉"]  # fmt: skip
    insert_sections(
        manual=manual,
        parent=None,
        sections=[NewSection(1, title, long_text(1)) for title in chapters],
    )
    return manual


def print_as(client, user, manual, language: str | None) -> tuple[Edition, str]:
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(user)
    client.post(
        reverse("printing:request", args=[manual.pk]),
        {"theme": "plain", "paper": "A5", "scope": "all"},
    )
    edition = Edition.objects.latest("pk")
    assert run_edition(edition_id=edition.pk) == Edition.Status.DONE
    edition.refresh_from_db()
    return edition, "\n".join(page_texts(edition.file.path))


def test_printed_in_english_the_chapters_are_numbered_chapter_1_2_3(client, alice):
    manual = small_manual(alice)
    edition, text = print_as(client, alice, manual, "en")
    assert edition.language == "en"
    for n in (1, 2, 11):
        assert f"Chapter {n}\n" in text
    assert "Contents" in text and "Print edition of" in text
    assert "第一章" not in text and "目录" not in text
    assert "管理制度" in text and "投诉" in text  # the agent's own words as written


def test_printed_in_chinese_the_chapters_are_numbered_in_chinese(client, alice):
    manual = small_manual(alice)
    edition, text = print_as(client, alice, manual, None)
    assert edition.language == "zh-hans"
    for label in ("第一章", "第二章", "第十一章"):
        assert label in text
    assert "目录" in text and "Chapter" not in text


def test_the_same_booklet_in_two_languages_is_two_editions(client, alice):
    manual = small_manual(alice)
    options = {"theme": "plain", "paper": "A5", "scope": "all"}
    client.force_login(alice)
    client.post(reverse("printing:request", args=[manual.pk]), options)
    # One edition of a manual on the way at a time: the English one waits for it.
    Edition.objects.update(status=Edition.Status.DONE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post(reverse("printing:request", args=[manual.pk]), options)
    assert sorted(Edition.objects.values_list("language", flat=True)) == ["en", "zh-hans"]


def test_the_print_command_takes_a_language(alice, tmp_path):
    from django.core.management import call_command

    manual = small_manual(alice)
    call_command("print_manual", manual.pk, "-o", tmp_path / "en.pdf", "--language", "en")
    text = "\n".join(page_texts(tmp_path / "en.pdf"))
    assert "Chapter 3\n" in text and "第三章" not in text


def test_assembling_follows_the_active_language_by_default(alice, tmp_path):
    from django.utils import translation

    manual = small_manual(alice)
    with translation.override("en"):
        booklet = assemble_booklet(manual=manual, options=BookletOptions())
    # The front matter is rendered later (in the render process) in the booklet's language.
    result = render_booklet_pdf(booklet=booklet, out_path=tmp_path / "b.pdf")
    assert booklet.language == "en"
    assert "Contents" in page_texts(result.path)[1]


class ProgressNotes(list):
    """Every progress note written to an edition row: what the edition page shows."""

    def __call__(self, execute, sql, params, many, context):
        if sql.startswith('UPDATE "printing_edition"') and '"progress_note" = ' in sql:
            columns = re.findall(r'"(\w+)" = %s', sql.split(" WHERE ")[0])
            note = params[columns.index("progress_note")]
            if note:
                self.append(note)
        return execute(sql, params, many, context)


def test_progress_notes_are_in_the_requesters_language(client, alice):
    notes = ProgressNotes()
    with connection.execute_wrapper(notes):
        print_as(client, alice, small_manual(alice), "en")
        english = list(notes)
        notes.clear()
        print_as(client, alice, small_manual(alice), "zh-hans")
    assert "Typesetting chapters" in english[:2]
    assert all(not HAN.search(note) for note in english), english
    assert "正在排版章节" in notes[:2]
    assert all(HAN.search(note) for note in notes), notes


def test_the_finished_editions_page_count_reads_naturally(client, alice):
    manual = small_manual(alice)
    edition, _text = print_as(client, alice, manual, "en")
    status = client.get(reverse("printing:status", args=[edition.pk])).json()
    assert status["summary"].startswith(f"{edition.page_count} pages · ")
    page = client.get(reverse("printing:edition", args=[edition.pk])).content.decode()
    assert f"{edition.page_count} pages · " in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    status = client.get(reverse("printing:status", args=[edition.pk])).json()
    assert status["summary"].startswith(f"{edition.page_count} 页 · ")
