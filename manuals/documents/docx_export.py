"""A manual as a .docx: the tree as true Heading 1…9 paragraphs (Word's Navigation Pane
shows the same outline), a table-of-contents field Word fills in on opening, and each body's
text, lists, tables, links and pictures."""

from __future__ import annotations

import io

import lxml.html
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_BREAK, WD_COLOR_INDEX
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor

from manuals.models import Image, Manual
from manuals.outline import readable_outline
from manuals.sanitize import MAX_COLSPAN, MAX_ROWSPAN, clamp_span

WORD_MAX_HEADING = 9
MAX_PICTURE_WIDTH = Inches(6)
EAST_ASIAN_FONT = "宋体"
BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre", "blockquote",
          "figure", "hr", "div"}  # fmt: skip
INLINE_FORMATS = {"strong": "bold", "b": "bold", "em": "italic", "i": "italic",
                  "u": "underline", "s": "strike", "sub": "subscript", "sup": "superscript",
                  "code": "code", "mark": "highlight"}  # fmt: skip


def export_docx(*, manual: Manual, user=None) -> bytes:
    document = Document()
    _set_fonts(document)
    document.core_properties.title = manual.title
    document.core_properties.author = manual.owner.get_full_name() or manual.owner.username
    document.add_heading(manual.title, level=0)
    _add_toc(document)
    images = {image.pk: image for image in Image.objects.filter(manual=manual)}
    writer = _BodyWriter(document, images)
    for depth, section in readable_outline(manual=manual, user=user):
        document.add_heading(section.title, level=min(depth, WORD_MAX_HEADING))
        if section.body:
            writer.write(section.body)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _set_fonts(document) -> None:
    styles = document.styles
    for name in ("Normal", "Title", *(f"Heading {n}" for n in range(1, 10))):
        fonts = styles[name].element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    styles["Normal"].font.size = Pt(11)
    code = styles.add_style("Code", WD_STYLE_TYPE.PARAGRAPH)
    code.base_style = styles["Normal"]
    code.font.name = "Consolas"
    code.paragraph_format.space_after = Pt(0)
    link = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
    link.font.underline = True
    link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)


def _add_toc(document) -> None:
    document.add_paragraph(_("目录"), style="TOC Heading")
    paragraph = document.add_paragraph()

    def field_char(kind: str) -> None:
        char = OxmlElement("w:fldChar")
        char.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(char)

    field_char("begin")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = 'TOC \\o "1-9" \\h \\z \\u'
    paragraph.add_run()._r.append(instruction)
    field_char("separate")
    paragraph.add_run(_("（目录将在 Word 打开时更新；如未更新，请右键点击这里选择“更新域”。）"))
    field_char("end")
    # Ask Word to refresh fields (the table of contents) when the file is opened.
    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)
    paragraph.add_run().add_break(WD_BREAK.PAGE)


class _BodyWriter:
    def __init__(self, document, images: dict[int, Image]):
        self.document = document
        self.images = images

    def write(self, body: str) -> None:
        root = lxml.html.fragment_fromstring(body, create_parent="div")
        self.blocks(root, self.document)

    # -- blocks -------------------------------------------------------------------
    def blocks(self, parent, container, style: str | None = None) -> None:
        """Write the children of ``parent``; loose text and inline tags share paragraphs."""
        paragraph = None
        if parent.text and parent.text.strip():
            paragraph = container.add_paragraph(style=style)
            self.text(paragraph, parent.text, ())
        for child in parent:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in BLOCKS:
                paragraph = None
                self.block(child, container, style)
            elif tag:
                if paragraph is None:
                    paragraph = container.add_paragraph(style=style)
                self.inline(child, paragraph, ())
            if child.tail and child.tail.strip():
                if paragraph is None:
                    paragraph = container.add_paragraph(style=style)
                self.text(paragraph, child.tail, ())

    def block(self, element, container, style: str | None) -> None:
        tag = element.tag
        if tag == "p":
            paragraph = container.add_paragraph(style=style)
            self.inline_children(element, paragraph, ())
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            # Headings inside a body must not join the document's outline.
            paragraph = container.add_paragraph(style=style)
            self.inline_children(element, paragraph, ("bold",))
        elif tag in {"ul", "ol"}:
            self.list(element, container, 1)
        elif tag == "table":
            self.table(element, container)
        elif tag == "pre":
            for line in element.text_content().split("\n"):
                container.add_paragraph(line, style="Code")
        elif tag == "blockquote":
            self.blocks(element, container, style="Quote")
        elif tag == "figure":
            self.blocks(element, container, style)
        elif tag == "hr":
            _rule(container.add_paragraph(style=style))
        else:
            self.blocks(element, container, style)

    def _restarted_numbering(self) -> int | None:
        """A fresh numbering instance of the "List Number" style that starts at 1, so each
        numbered list counts from 1 instead of running on from the one before."""
        p_pr = self.document.styles["List Number"].element.pPr
        if p_pr is None or p_pr.numPr is None or p_pr.numPr.numId is None:
            return None
        numbering = self.document.part.numbering_part.element
        abstract = numbering.num_having_numId(p_pr.numPr.numId.val).abstractNumId.val
        num = numbering.add_num(abstract)
        num.add_lvlOverride(ilvl=0).add_startOverride(1)
        return num.numId

    def list(self, element, container, level: int) -> None:
        kind = "List Number" if element.tag == "ol" else "List Bullet"
        style = kind if level == 1 else f"{kind} {min(level, 3)}"
        num_id = self._restarted_numbering() if element.tag == "ol" and level == 1 else None
        for item in element:
            if item.tag != "li":
                continue
            paragraph = container.add_paragraph(style=style)
            if num_id is not None:
                num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
                num_pr.get_or_add_ilvl().val = 0
                num_pr.get_or_add_numId().val = num_id
            if item.text:
                self.text(paragraph, item.text, ())
            for child in item:
                if child.tag in {"ul", "ol"}:
                    self.list(child, container, level + 1)
                    paragraph = None
                elif child.tag in BLOCKS:
                    if paragraph is None or paragraph.text:
                        paragraph = container.add_paragraph(style=style)
                    self.inline_children(child, paragraph, ())
                else:
                    if paragraph is None:
                        paragraph = container.add_paragraph(style=style)
                    self.inline(child, paragraph, ())
                if child.tail and child.tail.strip():
                    if paragraph is None:
                        paragraph = container.add_paragraph(style=style)
                    self.text(paragraph, child.tail, ())

    def table(self, element, container) -> None:
        rows = [row for row in element.iter("tr")]
        if not rows:
            return
        grid: list[list] = []
        occupied: set[tuple[int, int]] = set()
        width = 0
        for r, row in enumerate(rows):
            c = 0
            for cell in row:
                if cell.tag not in {"td", "th"}:
                    continue
                while (r, c) in occupied:
                    c += 1
                # Bodies stored before spans were clamped may still hold any value.
                colspan = clamp_span(cell.get("colspan"), MAX_COLSPAN) or 1
                rowspan = min(clamp_span(cell.get("rowspan"), MAX_ROWSPAN) or 1, len(rows) - r)
                grid.append([r, c, rowspan, colspan, cell])
                for dr in range(rowspan):
                    for dc in range(colspan):
                        occupied.add((r + dr, c + dc))
                c += colspan
                width = max(width, c)
        height = max((r + rs for r, _c, rs, _cs, _el in grid), default=len(rows))
        table = container.add_table(rows=height, cols=max(width, 1))
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            cells = [cell for cell in row if cell.tag in {"td", "th"}]
            if cells and all(cell.tag == "th" for cell in cells):
                table.rows[r]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        for r, c, rowspan, colspan, cell_el in grid:
            cell = table.cell(r, c)
            if rowspan > 1 or colspan > 1:
                cell = cell.merge(table.cell(min(r + rowspan, height) - 1, c + colspan - 1))
            first = cell.paragraphs[0]
            self.cell(cell_el, cell, first, bold=cell_el.tag == "th")

    def cell(self, element, cell, first, *, bold: bool) -> None:
        has_blocks = any(isinstance(c.tag, str) and c.tag in BLOCKS for c in element)
        if not has_blocks:
            self.inline_children(element, first, ("bold",) if bold else ())
            return
        self.blocks(element, cell)
        # The first, empty paragraph every cell starts with.
        if not first.text and len(cell.paragraphs) > 1:
            first._p.getparent().remove(first._p)

    # -- inline -------------------------------------------------------------------
    def inline_children(self, element, paragraph, fmt: tuple) -> None:
        if element.text:
            self.text(paragraph, element.text, fmt)
        for child in element:
            if isinstance(child.tag, str):
                self.inline(child, paragraph, fmt)
            if child.tail:
                self.text(paragraph, child.tail, fmt)

    def inline(self, element, paragraph, fmt: tuple) -> None:
        tag = element.tag
        if tag == "br":
            paragraph.add_run().add_break()
        elif tag == "img":
            self.picture(element, paragraph)
        elif tag == "a" and element.get("href"):
            self.link(element, paragraph, fmt)
        elif tag in INLINE_FORMATS:
            self.inline_children(element, paragraph, (*fmt, INLINE_FORMATS[tag]))
        else:
            self.inline_children(element, paragraph, fmt)

    def text(self, paragraph, text: str, fmt: tuple, run_parent=None) -> None:
        text = " ".join(text.split("\n")) if "code" not in fmt else text
        lines = text.split("\n")
        for index, line in enumerate(lines):
            run = paragraph.add_run(line)
            if index < len(lines) - 1:
                run.add_break()
            _format(run, fmt)
            if run_parent is not None:
                run_parent.append(run._r)

    def link(self, element, paragraph, fmt: tuple) -> None:
        part = paragraph.part
        rel_id = part.relate_to(element.get("href"), RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
        hyperlink = OxmlElement("w:hyperlink")
        hyperlink.set(qn("r:id"), rel_id)
        paragraph._p.append(hyperlink)
        self.text(paragraph, element.text_content(), (*fmt, "link"), run_parent=hyperlink)

    def picture(self, element, paragraph) -> None:
        image_id = element.get("data-image-id", "")
        image = self.images.get(int(image_id)) if image_id.isdigit() else None
        if image is None:
            return
        with image.file.open("rb") as handle:
            data = handle.read()
        width = Inches(image.width / 96) if image.width else MAX_PICTURE_WIDTH
        paragraph.add_run().add_picture(io.BytesIO(data), width=min(width, MAX_PICTURE_WIDTH))


def _format(run, fmt: tuple) -> None:
    font = run.font
    for name in fmt:
        if name in {"bold", "italic", "underline", "strike", "subscript", "superscript"}:
            setattr(font, name, True)
        elif name == "code":
            font.name = "Consolas"
        elif name == "highlight":
            font.highlight_color = WD_COLOR_INDEX.YELLOW
        elif name == "link":
            run.style = "Hyperlink"


def _rule(paragraph) -> None:
    """A horizontal line: an empty paragraph with a bottom border."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)
