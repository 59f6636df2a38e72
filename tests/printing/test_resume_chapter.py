"""A re-print sets an edited chapter again only from the page before the edit: the pages
before it come from the chapter's last rendering, and the book is the same, page for page
and pixel for pixel, as one set from scratch."""

import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from manuals.bulk import NewSection, insert_sections
from manuals.models import Section
from manuals.tree import SectionContent, create_manual, save_section_content
from printing import render as render_module
from printing.booklet import BookletOptions, assemble_booklet
from printing.render import render_booklet_pdf
from printing.theming import Theme
from tests.printing.conftest import long_text, outline_titles, page_texts, toc_numbers


@pytest.fixture
def long_chapter(alice):
    """One chapter of 30 cases (about 20 A5 pages), the way a retrospectives chapter grows."""
    manual = create_manual(owner=alice, title="王丽的工作手册")
    cases = [NewSection(1, "工作复盘", long_text(1), visibility="shared")]
    for n in range(30):
        body = long_text(1 + n % 4) + ("<ul><li>先安抚</li><li>再核对</li></ul>" if n % 5 else "")
        cases.append(NewSection(2, f"案例{n + 1:02d} 退款纠纷", body, visibility="shared"))
        if n % 7 == 3:  # a heading with nothing under it but the next case
            cases.append(NewSection(2, f"小结{n + 1:02d}", "", visibility="shared"))
    cases.append(NewSection(1, "学习工具", long_text(2), visibility="shared"))
    insert_sections(manual=manual, parent=None, sections=cases)
    return manual


def render(manual, path, *, user=None, cache=None, **options):
    booklet = assemble_booklet(manual=manual, options=BookletOptions(**options), user=user)
    return render_booklet_pdf(booklet=booklet, out_path=path, chapter_cache=cache)


def edit(manual, title, *, extra="", new_title=None, visibility=None):
    section = Section.objects.get(manual=manual, title=title)
    save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(
            title=new_title or title,
            body=section.body + extra,
            visibility=visibility or section.visibility,
        ),
    )


def font_unicode(pdf: Path) -> bytes:
    """The ToUnicode maps of every font on every page: each character a font can show."""
    maps = b""
    for page in PdfReader(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if "/ToUnicode" in font:
                maps += font["/ToUnicode"].get_object().get_data()
    assert maps
    return maps


def pictures(pdf: Path, out: Path) -> list[bytes]:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "72", "-png", str(pdf), str(out / "p")], check=True)
    return [p.read_bytes() for p in sorted(out.glob("p-*.png"))]


def assert_same_as_from_scratch(result, manual, tmp_path, **options):
    fresh = render(manual, tmp_path / "fresh.pdf", cache=tmp_path / "fresh-cache", **options)
    assert fresh.pages_kept == 0
    assert page_texts(result.path) == page_texts(fresh.path)
    assert pictures(result.path, tmp_path / "a") == pictures(fresh.path, tmp_path / "b")
    assert outline_titles(result.path) == outline_titles(fresh.path)
    assert result.page_of == fresh.page_of


@pytest.mark.parametrize("theme", ["plain", "magazine", "ink-wash"])
def test_a_case_edited_late_in_a_long_chapter_keeps_the_pages_before_it(
    long_chapter, tmp_path, theme
):
    first = render(long_chapter, tmp_path / "1.pdf", theme=theme)
    edit(long_chapter, "案例26 退款纠纷", extra=long_text(6), new_title="案例26 退款纠纷（已结案）")
    again = render(long_chapter, tmp_path / "2.pdf", theme=theme)
    assert (again.chapters_rendered, again.chapters_cached) == (1, 1)
    # Kept: the pages up to the last one that begins with a case before the edited one.
    assert again.pages_kept >= 5
    assert again.page_count > first.page_count
    assert_same_as_from_scratch(again, long_chapter, tmp_path, theme=theme)
    texts = page_texts(again.path)
    assert "案例26 退款纠纷（已结案）" in [t for t, _n in toc_numbers(texts[1:3])]
    # Edited again, from the last rendering (which itself was partly an older one).
    edit(long_chapter, "案例29 退款纠纷", extra=long_text(2))
    third = render(long_chapter, tmp_path / "3.pdf", theme=theme)
    assert third.pages_kept >= again.pages_kept
    assert_same_as_from_scratch(third, long_chapter, tmp_path / "3", theme=theme)


def test_a_new_case_at_the_end_of_the_chapter_sets_only_its_last_pages(long_chapter, tmp_path):
    first = render(long_chapter, tmp_path / "1.pdf")
    head = Section.objects.get(manual=long_chapter, title="工作复盘")
    case = NewSection(1, "案例31 新增", long_text(4), visibility="shared")
    insert_sections(manual=long_chapter, parent=head, sections=[case])
    again = render(long_chapter, tmp_path / "2.pdf")
    assert again.pages_kept >= 5
    assert again.page_count >= first.page_count
    assert_same_as_from_scratch(again, long_chapter, tmp_path)


def test_an_edit_in_the_first_case_sets_the_whole_chapter(long_chapter, tmp_path):
    render(long_chapter, tmp_path / "1.pdf")
    edit(long_chapter, "案例01 退款纠纷", extra=long_text(1))
    again = render(long_chapter, tmp_path / "2.pdf")
    assert again.pages_kept == 0
    assert_same_as_from_scratch(again, long_chapter, tmp_path)


def test_a_renamed_chapter_is_set_whole_its_running_head_changes_everywhere(long_chapter, tmp_path):
    render(long_chapter, tmp_path / "1.pdf")
    edit(long_chapter, "工作复盘", new_title="工作复盘（2024）")
    edit(long_chapter, "案例28 退款纠纷", extra=long_text(1))
    again = render(long_chapter, tmp_path / "2.pdf")
    assert again.pages_kept == 0
    assert sum("工作复盘（2024）" in t for t in page_texts(again.path)) > 15


def test_a_teammate_print_never_takes_pages_from_the_owners_rendering(
    long_chapter, alice, bob, tmp_path
):
    """An earlier rendering's fonts hold every character of its pages, private ones too:
    a chapter is set from one only for the same readers, and cached only for them."""
    from manuals.tree import trash_section

    edit(long_chapter, "案例27 退款纠纷", extra="<p>私人备忘：龘龘</p>", visibility="private")
    render(long_chapter, tmp_path / "owner.pdf", user=alice)
    assert b"9F98" in font_unicode(tmp_path / "owner.pdf").upper()  # 龘 is U+9F98
    shared = render(long_chapter, tmp_path / "bob.pdf", user=bob, scope="shared")
    assert shared.pages_kept == 0
    assert b"9F98" not in font_unicode(shared.path).upper()
    # The owner deletes the private case, edits another and prints: set from the rendering
    # that had the private case, whose fonts still hold 龘. Bob's booklet now has the same
    # HTML: it must not get that from the cache, only pages of Bob's own rendering.
    trash_section(section=Section.objects.get(manual=long_chapter, title="案例27 退款纠纷"),
                  user=alice)  # fmt: skip
    edit(long_chapter, "案例29 退款纠纷", extra=long_text(1))
    owner = render(long_chapter, tmp_path / "owner2.pdf", user=alice)
    assert owner.pages_kept > 0 and b"9F98" in font_unicode(owner.path).upper()
    again = render(long_chapter, tmp_path / "bob2.pdf", user=bob, scope="shared")
    assert (again.chapters_rendered, again.chapters_cached) == (1, 1)
    assert again.pages_kept > 0
    assert b"9F98" not in font_unicode(again.path).upper()
    assert page_texts(again.path) == page_texts(owner.path)


def test_after_a_few_generations_the_chapter_is_set_whole_again(
    long_chapter, tmp_path, monkeypatch
):
    monkeypatch.setattr(render_module, "MAX_GENERATIONS", 1)
    render(long_chapter, tmp_path / "1.pdf")
    edit(long_chapter, "案例25 退款纠纷", extra=long_text(1))
    assert render(long_chapter, tmp_path / "2.pdf").pages_kept > 0
    edit(long_chapter, "案例26 退款纠纷", extra=long_text(1))
    again = render(long_chapter, tmp_path / "3.pdf")
    assert again.pages_kept == 0
    assert_same_as_from_scratch(again, long_chapter, tmp_path)


def test_a_tail_that_does_not_land_where_it_was_falls_back_to_the_whole_chapter(
    long_chapter, tmp_path, monkeypatch
):
    render(long_chapter, tmp_path / "1.pdf")
    planned = render_module._tail

    def misplaced(*args):
        plan = planned(*args)
        return plan and {**plan, "top": plan["top"] + 0.5}

    monkeypatch.setattr(render_module, "_tail", misplaced)
    edit(long_chapter, "案例26 退款纠纷", extra=long_text(2))
    again = render(long_chapter, tmp_path / "2.pdf")
    assert again.pages_kept == 0
    assert_same_as_from_scratch(again, long_chapter, tmp_path)


def test_a_theme_whose_pages_depend_on_the_pages_before_is_never_resumed(tmp_path):
    def theme(css: str) -> Theme:
        folder = tmp_path / f"t{abs(hash(css))}"
        folder.mkdir()
        (folder / "theme.css").write_text(css)
        return Theme(name="t", path=folder, label="t", label_en="t", description="",
                     image_style="none")  # fmt: skip

    assert theme("@page body { @top-center { content: string(chapter) } }").resumable
    assert theme("tr:nth-child(even) td { background: #eee }").resumable
    assert not theme("h2::before { content: counter(case) }").resumable
    assert not theme("@page body:left { margin-left: 30mm }").resumable
    assert not theme(".opener { break-before: right }").resumable
    assert not theme("@page body { @top-right { content: string(section, start) } }").resumable
