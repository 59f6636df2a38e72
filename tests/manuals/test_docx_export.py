import io
import subprocess

import docx
from docx.oxml.ns import qn

from manuals.documents.docx_export import export_docx
from manuals.documents.importing import import_document, read_document
from manuals.images.pipeline import store_image
from manuals.models import Section
from manuals.tree import SectionContent, add_section, trash_section
from tests.conftest import section_titled
from tests.manuals.documents import outline_of, png_bytes


def headings(data: bytes) -> list[tuple[int, str]]:
    document = docx.Document(io.BytesIO(data))
    found = []
    for paragraph in document.paragraphs:
        name = paragraph.style.name
        if name.startswith("Heading "):
            found.append((int(name.split()[1]), paragraph.text))
    return found


def test_exported_heading_levels_match_the_tree(alice, alice_manual):
    trash_section(section=section_titled(alice_manual, "学习工具"), user=alice)
    data = export_docx(manual=alice_manual)
    assert headings(data) == outline_of(alice_manual)
    document = docx.Document(io.BytesIO(data))
    assert document.paragraphs[0].style.name == "Title"
    assert document.paragraphs[0].text == "王丽的工作手册"
    assert "学习工具" not in [p.text for p in document.paragraphs]


def test_the_export_has_a_table_of_contents_field_word_updates_on_opening(alice_manual):
    document = docx.Document(io.BytesIO(export_docx(manual=alice_manual)))
    instructions = [t.text for t in document.element.body.iter(qn("w:instrText"))]
    assert any(text.startswith("TOC") for text in instructions)
    assert document.settings.element.find(qn("w:updateFields")) is not None


def test_bodies_keep_formatting_lists_tables_links_and_pictures(alice, alice_manual):
    image = store_image(manual=alice_manual, data=png_bytes(size=(300, 200)),
                        original_name="p.png", user=alice)  # fmt: skip
    add_section(
        manual=alice_manual,
        content=SectionContent(
            title="富文本",
            body=(
                "<p>普通 <strong>加粗</strong> <em>斜体</em> "
                '<a href="https://example.com/x">链接</a></p>'
                "<ul><li>一</li><li>二<ul><li>二点一</li></ul></li></ul>"
                "<table><tr><th>列</th><th>值</th></tr><tr><td>a</td><td>1</td></tr></table>"
                f'<p><img src="/images/{image.pk}/" data-image-id="{image.pk}" alt="图"></p>'
            ),
        ),
    )
    data = export_docx(manual=alice_manual)
    document = docx.Document(io.BytesIO(data))
    runs = {run.text: run for p in document.paragraphs for run in p.runs}
    assert runs["加粗"].bold and runs["斜体"].italic
    styles = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("List Bullet", "一") in styles and ("List Bullet 2", "二点一") in styles
    assert [c.text for c in document.tables[0].rows[1].cells] == ["a", "1"]
    assert len(document.inline_shapes) == 1
    assert any(
        rel.reltype.endswith("/hyperlink") and rel.target_ref == "https://example.com/x"
        for rel in document.part.rels.values()
    )


def test_a_deep_manual_keeps_word_heading_styles_up_to_nine(alice, alice_manual):
    parent = section_titled(alice_manual, "项目资料")
    for depth in range(2, 12):
        parent = add_section(manual=alice_manual, target=parent,
                             content=SectionContent(title=f"第{depth}级"))  # fmt: skip
    levels = dict((title, level) for level, title in headings(export_docx(manual=alice_manual)))
    assert levels["第9级"] == 9 and levels["第11级"] == 9


def test_a_third_party_reader_sees_the_same_heading_tree(alice, alice_manual, tmp_path):
    """A third-party reader (pandoc) sees the same heading tree in our .docx."""
    path = tmp_path / "manual.docx"
    path.write_bytes(export_docx(manual=alice_manual))
    markdown = subprocess.run(
        ["pandoc", str(path), "-t", "gfm"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    found = [
        (len(line) - len(line.lstrip("#")), line.lstrip("#").strip())
        for line in markdown.splitlines()
        if line.startswith("#")
    ]
    # pandoc also lists the "TOC Heading" paragraph (outline level 9, which Word's
    # Navigation Pane leaves out).
    assert found[0] == (1, "目录")
    assert found[1:] == outline_of(alice_manual)


def test_our_docx_imports_back_into_the_same_outline_and_text(alice, alice_manual, tmp_path):
    path = tmp_path / "manual.docx"
    path.write_bytes(export_docx(manual=alice_manual))
    again = import_document(parsed=read_document(path), owner=alice)
    assert again.title == "王丽的工作手册"
    assert outline_of(again) == outline_of(alice_manual)
    for section in Section.objects.filter(manual=alice_manual, level__gt=0):
        assert section_titled(again, section.title).body == section.body


def test_each_numbered_list_starts_again_at_one(alice, alice_manual):
    add_section(
        manual=alice_manual,
        content=SectionContent(
            title="两个列表", body="<ol><li>甲</li><li>乙</li></ol><p>中间</p><ol><li>丙</li></ol>"
        ),
    )
    document = docx.Document(io.BytesIO(export_docx(manual=alice_manual)))
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert ids[0] == ids[1] != ids[2]
    numbering = document.part.numbering_part.element
    for num_id in (ids[0], ids[2]):
        num = numbering.num_having_numId(num_id)
        assert num.xpath("./w:lvlOverride/w:startOverride/@w:val") == ["1"]
