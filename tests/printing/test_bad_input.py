"""Hostile or extreme manuals: a clear outcome each time, never a hang."""

import pytest

from manuals import bulk
from manuals.bulk import NewSection, insert_sections
from manuals.models import Image
from manuals.tree import create_manual
from printing.booklet import BookletOptions, PrintError, assemble_booklet
from printing.render import render_booklet_pdf
from tests.printing.conftest import outline_titles, page_texts


def render(manual, path, **options):
    booklet = assemble_booklet(manual=manual, options=BookletOptions(**options))
    return render_booklet_pdf(booklet=booklet, out_path=path)


def test_a_manual_without_sections_is_refused_with_a_reason(alice):
    manual = create_manual(owner=alice, title="空手册")
    with pytest.raises(PrintError) as refused:
        assemble_booklet(manual=manual, options=BookletOptions())
    assert "没有可打印的章节" in str(refused.value)


def test_a_manual_with_nothing_shared_is_refused_for_shared_only(alice_manual):
    with pytest.raises(PrintError):
        assemble_booklet(manual=alice_manual, options=BookletOptions(scope="shared"))


def test_a_sixty_level_deep_tree_prints_with_sixty_nested_bookmarks(alice, monkeypatch, tmp_path):
    monkeypatch.setattr(bulk, "MAX_DEPTH", 80)  # e.g. an old import, before the depth limit
    manual = create_manual(owner=alice, title="深层手册")
    insert_sections(
        manual=manual,
        parent=None,
        sections=[NewSection(d, f"第{d}层", f"<p>第{d}层的内容</p>") for d in range(1, 61)],
    )
    result = render(manual, tmp_path / "deep.pdf")
    outline = outline_titles(result.path)
    assert [d for d, _t, _p in outline] == list(range(1, 61))
    assert "第60层的内容" in "".join(page_texts(result.path))


def test_a_section_of_200000_characters_prints(alice, tmp_path):
    manual = create_manual(owner=alice, title="长文")
    text = "这是一段很长的复盘记录，没有分段，一直写下去。" * 8700  # ~200,000 characters
    insert_sections(
        manual=manual, parent=None, sections=[NewSection(1, "长章节", f"<p>{text}</p>")]
    )
    result = render(manual, tmp_path / "long.pdf")
    assert result.page_count > 60
    assert "一直写下去" in page_texts(result.path)[-1]


def test_a_huge_table_breaks_across_pages_with_its_header(alice, tmp_path):
    manual = create_manual(owner=alice, title="表格")
    rows = "".join(
        f"<tr><td>{i}</td><td>投诉类型{i % 7}</td><td>{'很长的说明' * 8}</td></tr>"
        for i in range(600)
    )
    table = f"<table><thead><tr><th>序号</th><th>类型</th><th>说明</th></tr></thead>{rows}</table>"
    insert_sections(manual=manual, parent=None, sections=[NewSection(1, "投诉统计", table)])
    result = render(manual, tmp_path / "table.pdf")
    texts = page_texts(result.path)
    assert result.page_count > 10
    assert all("序号" in t for t in texts[4:-1])  # the header row repeats on every page
    assert "599" in texts[-1]


def test_a_deleted_picture_prints_as_a_marked_gap(illustrated_manual, tmp_path):
    photo = Image.objects.get(manual=illustrated_manual, original_name="p")
    photo.file.delete(save=False)
    Image.objects.filter(original_name="a").delete()
    booklet = assemble_booklet(manual=illustrated_manual, options=BookletOptions())
    result = render_booklet_pdf(booklet=booklet, out_path=tmp_path / "gaps.pdf")
    text = "".join(page_texts(result.path))
    assert booklet.missing_images == 3
    assert text.count("图片缺失") == 3 and "工单截图" in text


def test_a_corrupt_picture_file_prints_as_a_marked_gap(illustrated_manual, tmp_path):
    photo = Image.objects.get(manual=illustrated_manual, original_name="p")
    with open(photo.file.path, "wb") as handle:
        handle.write(b"\xff\xd8\xff\xe0 this is not a jpeg any more")
    result = render(illustrated_manual, tmp_path / "corrupt.pdf", image_style="sepia")
    assert "图片缺失" in "".join(page_texts(result.path))


def test_a_huge_outline_lists_fewer_levels_in_the_contents_but_all_in_bookmarks(alice):
    manual = create_manual(owner=alice, title="大手册")
    items = [NewSection(1, "工作复盘")]
    for topic in range(10):
        items.append(NewSection(2, f"专题{topic}"))
        items += [NewSection(3, f"案例{topic}-{case}") for case in range(45)]
    insert_sections(manual=manual, parent=None, sections=items)
    booklet = assemble_booklet(manual=manual, options=BookletOptions())
    assert booklet.toc_depth == 2
    assert [e.title for e in booklet.toc_entries()][:3] == ["工作复盘", "专题0", "专题1"]
    assert len(booklet.entries) == 461  # bookmarks still get every section
