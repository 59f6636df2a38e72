"""Real PDFs, checked with poppler: text, fonts, contents, bookmarks, pictures."""

import subprocess

import pytest
from pypdf import PdfReader

from manuals.models import Section
from printing.booklet import BookletOptions, assemble_booklet
from printing.render import render_booklet_pdf
from tests.printing.conftest import fonts, outline_titles, page_texts, toc_numbers


@pytest.fixture
def printed(illustrated_manual, tmp_path):
    booklet = assemble_booklet(manual=illustrated_manual, options=BookletOptions(paper="A5"))
    result = render_booklet_pdf(booklet=booklet, out_path=tmp_path / "book.pdf")
    return result, page_texts(result.path)


def test_chinese_text_comes_out_of_the_pdf(printed):
    result, texts = printed
    everything = "".join(texts)
    assert "王丽的工作手册" in texts[0] and "售后一组" in texts[0]
    assert "客户来电反映退款迟迟没有到账" in everything
    assert "\ufffd" not in everything  # no missing glyphs / unmapped characters


def test_cjk_fonts_are_embedded_as_subsets(printed):
    result, _texts = printed
    rows = fonts(result.path)
    assert rows and all(r["emb"] == "yes" and r["sub"] == "yes" for r in rows)
    assert any("Noto-Serif-CJK-SC" in r["name"] or "NotoSerifCJK" in r["name"] for r in rows)


def test_contents_page_numbers_match_where_the_headings_are(printed, illustrated_manual):
    result, texts = printed
    toc = toc_numbers(texts[1:3])
    titles = [t for t, _n in toc]
    assert titles[:3] == ["管理制度", "考勤制度", "质检标准"]
    assert "扣分细则" in titles  # third level is in the contents
    front_pages = 2
    chapters = {"管理制度", "工作复盘", "学习工具"}
    for title, number in toc:
        assert title in texts[number - 1], f"{title} is not on page {number}"
        if title not in chapters and number - 1 > front_pages:
            # …and not already on the page before (chapter titles are in the running head).
            assert title not in texts[number - 2], f"{title} starts before page {number}"
    numbers = [n for _t, n in toc]
    assert numbers == sorted(numbers) and numbers[-1] < len(texts)


def test_every_page_after_the_cover_shows_its_number_except_chapter_openers(printed):
    result, texts = printed
    openers = {
        n for title, n in toc_numbers(texts[1:3]) if title in {"管理制度", "工作复盘", "学习工具"}
    }
    for number, text in enumerate(texts, start=1):
        last = [line.strip() for line in text.strip().splitlines() if line.strip()][-1]
        if number == 1 or number in openers:
            assert last != str(number)
        else:
            assert last == str(number), (number, last)


def test_bookmarks_mirror_the_tree(printed, illustrated_manual):
    result, texts = printed
    outline = outline_titles(result.path)
    tree = [(s.level, s.title) for s in illustrated_manual.outline()]
    assert [(depth, title) for depth, title, _p in outline] == tree
    for _depth, title, page in outline:
        assert title in texts[page - 1]


def test_contents_entries_are_links_to_their_pages(printed):
    result, texts = printed
    reader = PdfReader(result.path)
    targets = []
    for page in reader.pages[1:3]:
        for annotation in page.get("/Annots", []):
            link = annotation.get_object()
            if link.get("/Subtype") == "/Link" and "/Dest" in link:
                targets.append(reader.get_page_number(link["/Dest"][0].get_object()) + 1)
    assert sorted(targets) == sorted(n for _t, n in toc_numbers(texts[1:3]))


def test_the_pdf_names_its_title_and_author_and_opens_on_the_bookmarks(printed):
    result, _texts = printed
    reader = PdfReader(result.path)
    assert reader.metadata.title == "王丽的工作手册"
    assert reader.metadata.author and reader.metadata.creator == "Lanbitou"
    assert reader.trailer["/Root"]["/PageMode"] == "/UseOutlines"


def test_running_header_shows_the_chapter_title(printed):
    result, texts = printed
    toc = dict(toc_numbers(texts[1:3]))
    body_page = texts[toc["考勤制度"]]  # the page after 考勤制度 starts
    assert body_page.strip().splitlines()[0].strip() == "管理制度"


def test_pictures_are_in_the_pdf(printed):
    result, texts = printed
    listing = subprocess.run(
        ["pdfimages", "-list", str(result.path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    pages_with_images = {int(line.split()[0]) for line in listing}
    assert 1 in pages_with_images  # the cover photo
    assert len(listing) >= 4  # cover, chapter illustration, two figures side by side
    assert "工单截图" in "".join(texts) and "回复模板" in "".join(texts)


def test_shared_only_and_subtree_options(illustrated_manual, tmp_path):
    shared = assemble_booklet(manual=illustrated_manual, options=BookletOptions(scope="shared"))
    titles = [e.title for e in shared.entries]
    assert titles == ["考勤制度", "工作复盘", "2024-03 退款纠纷"]
    chapter = Section.objects.get(manual=illustrated_manual, title="工作复盘")
    sub = assemble_booklet(
        manual=illustrated_manual,
        options=BookletOptions(subtree_id=chapter.pk, title="复盘集", paper="A4"),
    )
    result = render_booklet_pdf(booklet=sub, out_path=tmp_path / "sub.pdf")
    texts = page_texts(result.path)
    assert "复盘集" in texts[0]
    assert "考勤制度" not in "".join(texts)
    box = PdfReader(result.path).pages[3].mediabox
    assert round(float(box.width) / 72 * 25.4) == 210  # A4


def test_a_teammate_only_gets_what_they_may_read(illustrated_manual, bob):
    booklet = assemble_booklet(manual=illustrated_manual, options=BookletOptions(), user=bob)
    assert [e.title for e in booklet.entries] == ["考勤制度", "工作复盘", "2024-03 退款纠纷"]
    # A shared section under a private chapter becomes a chapter of its own, not lost.
    assert [c.title for c in booklet.chapters] == ["考勤制度", "工作复盘"]
