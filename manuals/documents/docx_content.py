"""Word paragraphs, runs and tables → the HTML our section bodies use.

Kept: bold, italic, underline, strike, super/subscript, code, links to web and mail
addresses, images (as placeholders the import resolves after storing them), bullet and
numbered lists with nesting, tables with merged cells, quotes, code blocks, footnotes,
text boxes (as paragraphs). Tracked changes are read as accepted. Everything dropped is
counted and reported to the user.
"""

from __future__ import annotations

import copy
import html
import posixpath
import re
from collections import Counter

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lxml import etree

from manuals.documents.types import ParsedDocument, PendingImage, placeholder
from manuals.sanitize import MAX_COLSPAN, clamp_span

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
V = "{urn:schemas-microsoft-com:vml}"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
WEB_SCHEMES = {"http", "https", "mailto"}
CODE_STYLES = {"source code", "html preformatted", "code", "代码", "plain text", "纯文本"}
QUOTE_STYLES = {"quote", "intense quote", "block text", "引用", "明显引用"}
CODE_CHAR_STYLES = {"verbatimchar", "html code", "code char"}
OFF = {"0", "false", "off", "none"}
LIST_STYLE = re.compile(r"^list (?:bullet|number)(?: (\d))?$")
INLINE_CONTAINERS = {"ins", "smartTag", "customXml", "fldSimple", "moveTo", "dir", "bdo"}


def w(tag: str) -> str:
    return W + tag


def _on(element) -> bool:
    return element is not None and element.get(W + "val", "1").lower() not in OFF


def paragraph_text(p) -> str:
    """The visible text of a paragraph (no deleted text, no text-box contents)."""
    parts: list[str] = []

    def walk(node) -> None:
        for child in node:
            tag = child.tag
            if tag == w("t"):
                parts.append(child.text or "")
            elif tag == w("tab"):
                parts.append(" ")
            elif tag in (w("r"), w("hyperlink"), w("sdtContent")) or (
                tag.startswith(W) and tag[len(W) :] in INLINE_CONTAINERS | {"sdt"}
            ):
                walk(child)

    walk(p)
    return "".join(parts)


class BodyWriter:
    """Collects the HTML of one section at a time; shared state lives across sections."""

    def __init__(self, document, parsed: ParsedDocument, levels):
        self.parsed = parsed
        self.levels = levels
        self.part = document.part
        self.dropped: Counter = Counter()
        self.image_keys: dict[str, str] = {}
        self.char_styles = self._char_styles(document)
        self.style_numbering = self._style_numbering(document)
        self.formats = self._list_formats(document)
        self.footnotes = self._notes(document, "footnotes", "footnote")
        self.endnotes = self._notes(document, "endnotes", "endnote")
        self.dropped["comments"] = len(self._notes(document, "comments", "comment"))
        self._reset()

    def _reset(self) -> None:
        self.out: list[str] = []
        self.lists: list[str] = []
        self.pre: list[str] = []
        self.after: list[str] = []
        self.notes: list[str] = []

    # -- document-wide tables -------------------------------------------------------
    def _char_styles(self, document) -> dict[str, tuple[bool, bool, bool]]:
        found = {}
        for style in document.styles.element.iterfind(w("style")):
            if style.get(W + "type") != "character":
                continue
            name_el = style.find(w("name"))
            name = (name_el.get(W + "val") if name_el is not None else "").lower()
            rpr = style.find(w("rPr"))
            bold = name == "strong" or (rpr is not None and _on(rpr.find(w("b"))))
            italic = name == "emphasis" or (rpr is not None and _on(rpr.find(w("i"))))
            found[style.get(W + "styleId")] = (bold, italic, name in CODE_CHAR_STYLES)
        return found

    def _style_numbering(self, document) -> dict[str, tuple[str, int]]:
        found = {}
        for style in document.styles.element.iterfind(w("style")):
            num = style.find(f"{w('pPr')}/{w('numPr')}")
            if num is not None:
                num_id = num.find(w("numId"))
                ilvl = num.find(w("ilvl"))
                if num_id is not None:
                    found[style.get(W + "styleId")] = (
                        num_id.get(W + "val"),
                        int(ilvl.get(W + "val", "0")) if ilvl is not None else 0,
                    )
        return found

    def _list_formats(self, document) -> dict[tuple[str, int], str]:
        try:
            numbering = document.part.numbering_part.element
        except (NotImplementedError, KeyError):
            return {}
        abstract: dict[str, dict[int, str]] = {}
        for node in numbering.iterfind(w("abstractNum")):
            levels = {}
            for lvl in node.iterfind(w("lvl")):
                fmt = lvl.find(w("numFmt"))
                levels[int(lvl.get(W + "ilvl", "0"))] = (
                    fmt.get(W + "val") if fmt is not None else "decimal"
                )
            abstract[node.get(W + "abstractNumId")] = levels
        formats = {}
        for num in numbering.iterfind(w("num")):
            ref = num.find(w("abstractNumId"))
            if ref is None:
                continue
            for ilvl, fmt in abstract.get(ref.get(W + "val"), {}).items():
                formats[(num.get(W + "numId"), ilvl)] = fmt
        return formats

    def _notes(self, document, kind: str, tag: str) -> dict[str, tuple]:
        for rel in self.part.rels.values():
            if rel.reltype.endswith("/" + kind) and not rel.is_external:
                part = rel.target_part
                root = getattr(part, "element", None)
                if root is None:
                    parser = etree.XMLParser(resolve_entities=False, no_network=True)
                    root = etree.fromstring(part.blob, parser)
                return {n.get(W + "id"): (n, part) for n in root.iterfind(w(tag))}
        return {}

    # -- inline content -------------------------------------------------------------
    def inline(self, parent) -> str:
        pieces: list[tuple[tuple, str]] = []
        for child in parent:
            tag = child.tag
            if tag == w("r"):
                pieces.append(self.run(child))
            elif tag == w("hyperlink"):
                pieces.append(((), self.hyperlink(child)))
            elif tag == w("sdt"):
                content = child.find(w("sdtContent"))
                if content is not None:
                    pieces.append(((), self.inline(content)))
            elif tag.startswith(W) and tag[len(W) :] in INLINE_CONTAINERS:
                pieces.append(((), self.inline(child)))
            elif tag in (M + "oMath", M + "oMathPara"):
                self.dropped["equation"] += 1
            elif tag in (w("del"), w("moveFrom")):
                self.dropped["deleted"] += 1
        return _join_runs(pieces)

    def hyperlink(self, link) -> str:
        inner = self.inline(link)
        rel_id = link.get(R + "id")
        rel = self.part.rels.get(rel_id) if rel_id else None
        url = rel.target_ref if rel is not None and rel.is_external else ""
        if url and url.split(":", 1)[0].lower() in WEB_SCHEMES:
            return f'<a href="{html.escape(url)}">{inner}</a>'
        if url:
            self.dropped["link"] += 1
        return inner

    def run(self, r) -> tuple[tuple, str]:
        rpr = r.find(w("rPr"))
        fmt = self._format(rpr)
        out: list[str] = []
        for child in r:
            tag = child.tag
            if tag == w("t"):
                out.append(html.escape(child.text or "", quote=False))
            elif tag in (w("tab"), w("ptab")):
                out.append(" ")
            elif tag in (w("br"), w("cr")):
                if child.get(W + "type") != "page":
                    out.append("<br>")
            elif tag == w("noBreakHyphen"):
                out.append("-")
            elif tag == w("drawing"):
                out.append(self.drawing(child))
            elif tag == w("pict"):
                out.append(self.pict(child))
            elif tag == MC + "AlternateContent":
                choice = child.find(MC + "Choice")
                if choice is not None:
                    out.append(self.run(_as_run(choice))[1])
            elif tag == w("object"):
                self.dropped["object"] += 1
            elif tag == w("footnoteReference"):
                out.append(self.note_reference(child, self.footnotes))
            elif tag == w("endnoteReference"):
                out.append(self.note_reference(child, self.endnotes))
        return fmt, "".join(out)

    def _format(self, rpr) -> tuple:
        if rpr is None:
            return ()
        style = rpr.find(w("rStyle"))
        bold, italic, code = self.char_styles.get(
            style.get(W + "val") if style is not None else "", (False, False, False)
        )
        bold = _on(rpr.find(w("b"))) if rpr.find(w("b")) is not None else bold
        italic = _on(rpr.find(w("i"))) if rpr.find(w("i")) is not None else italic
        underline = _on(rpr.find(w("u")))
        strike = _on(rpr.find(w("strike"))) or _on(rpr.find(w("dstrike")))
        vert = rpr.find(w("vertAlign"))
        vert = vert.get(W + "val") if vert is not None else ""
        tags = []
        for on, tag in ((bold, "strong"), (italic, "em"), (underline, "u"), (strike, "s"),
                        (code, "code"), (vert == "superscript", "sup"),
                        (vert == "subscript", "sub")):  # fmt: skip
            if on:
                tags.append(tag)
        return tuple(tags)

    def drawing(self, drawing) -> str:
        blip = drawing.find(f".//{A}blip")
        if blip is None:
            data = drawing.find(f".//{A}graphicData")
            uri = data.get("uri", "") if data is not None else ""
            if drawing.find(f".//{W}txbxContent") is not None:
                self.text_box(drawing)
            elif "chart" in uri:
                self.dropped["chart"] += 1
            elif "diagram" in uri:
                self.dropped["smartart"] += 1
            else:
                self.dropped["shape"] += 1
            return ""
        doc_pr = drawing.find(f".//{WP}docPr")
        alt = ""
        if doc_pr is not None:
            alt = doc_pr.get("descr") or doc_pr.get("title") or ""
        rel_id = blip.get(R + "embed")
        if not rel_id:
            self.dropped["linked_image"] += 1
            return ""
        return self.image(rel_id, alt)

    def pict(self, pict) -> str:
        data = pict.find(f".//{V}imagedata")
        if data is not None and data.get(R + "id"):
            return self.image(data.get(R + "id"), data.get("title") or "")
        if pict.find(f".//{W}txbxContent") is not None:
            self.text_box(pict)
        else:
            self.dropped["shape"] += 1
        return ""

    def image(self, rel_id: str, alt: str) -> str:
        part = self.part.related_parts.get(rel_id)
        if part is None or not hasattr(part, "blob"):
            self.dropped["linked_image"] += 1
            return ""
        key = self.image_keys.get(str(part.partname))
        if key is None:
            key = f"img{len(self.image_keys) + 1}"
            self.image_keys[str(part.partname)] = key
            self.parsed.images[key] = PendingImage(
                key=key, name=posixpath.basename(str(part.partname)), data=part.blob,
                caption=alt[:200],
            )  # fmt: skip
        return placeholder(key, alt)

    def text_box(self, holder) -> None:
        self.dropped["textbox"] += 1
        for p in holder.find(f".//{W}txbxContent").iterfind(w("p")):
            content = self.inline(p).strip()
            if content:
                self.after.append(f"<p>{content}</p>")

    def note_reference(self, ref, notes: dict) -> str:
        found = notes.get(ref.get(W + "id"))
        if found is None:
            return ""
        note, part = found
        number = len(self.notes) + 1
        saved, self.part = self.part, part
        text = " ".join(filter(None, (self.inline(p).strip() for p in note.iterfind(w("p")))))
        self.part = saved
        self.notes.append(f"<p><sup>[{number}]</sup> {text}</p>")
        return f"<sup>[{number}]</sup>"

    # -- blocks ---------------------------------------------------------------------
    def _list_kind(self, p, style_id: str | None) -> tuple[str, int] | None:
        num = p.find(f"{w('pPr')}/{w('numPr')}")
        num_id, ilvl = None, 0
        if num is not None:
            num_el, ilvl_el = num.find(w("numId")), num.find(w("ilvl"))
            num_id = num_el.get(W + "val") if num_el is not None else None
            ilvl = int(ilvl_el.get(W + "val", "0")) if ilvl_el is not None else 0
        elif style_id in self.style_numbering:
            num_id, ilvl = self.style_numbering[style_id]
        name = self.levels.name(style_id)
        nested = LIST_STYLE.match(name)
        if num is None and nested and nested.group(1):
            ilvl = int(nested.group(1)) - 1  # "List Bullet 2" is the second level
        if num_id is None or num_id == "0":
            if name.startswith("list bullet"):
                return "ul", 0
            if name.startswith("list number"):
                return "ol", 0
            return None
        fmt = self.formats.get((num_id, ilvl))
        if fmt == "none":
            return None
        if fmt is None:
            return ("ol" if name.startswith("list number") else "ul"), min(ilvl, 8)
        return ("ul" if fmt == "bullet" else "ol"), min(ilvl, 8)

    def paragraph(self, p, style_id: str | None) -> None:
        content = self.inline(p).strip()
        listed = self._list_kind(p, style_id) if content else None
        name = self.levels.name(style_id)
        if listed:
            self._flush_pre()
            self._list_item(*listed, content)
        elif name in CODE_STYLES:
            self.close_lists()
            self.pre.append(content)
        elif not content and p.find(f"{w('pPr')}/{w('pBdr')}/{w('bottom')}") is not None:
            self.close_lists()
            self._flush_pre()
            self.out.append("<hr>")
        elif content:
            self.close_lists()
            self._flush_pre()
            if name in QUOTE_STYLES:
                self.out.append(f"<blockquote><p>{content}</p></blockquote>")
            else:
                self.out.append(f"<p>{content}</p>")
        self._flush_after()

    def _list_item(self, tag: str, ilvl: int, content: str) -> None:
        ilvl = min(ilvl, len(self.lists))
        while len(self.lists) > ilvl + 1:
            self.out.append(f"</li></{self.lists.pop()}>")
        if len(self.lists) == ilvl + 1 and self.lists[-1] != tag:
            self.out.append(f"</li></{self.lists.pop()}>")
        if len(self.lists) == ilvl + 1:
            self.out.append("</li><li>")
        else:
            self.out.append(f"<{tag}><li>")
            self.lists.append(tag)
        self.out.append(content)

    def close_lists(self) -> None:
        while self.lists:
            self.out.append(f"</li></{self.lists.pop()}>")

    def _flush_pre(self) -> None:
        if self.pre:
            self.out.append("<pre>" + "\n".join(self.pre).replace("<br>", "\n") + "</pre>")
            self.pre = []

    def _flush_after(self) -> None:
        if self.after and not self.lists:
            self.out.extend(self.after)
            self.after = []

    def table(self, tbl) -> None:
        self.close_lists()
        self._flush_pre()
        self.out.append(self.table_html(tbl))
        self._flush_after()

    def table_html(self, tbl) -> str:
        rows: list[list[dict]] = []
        merging: dict[int, dict] = {}
        for tr in tbl.iterfind(w("tr")):
            header = tr.find(f"{w('trPr')}/{w('tblHeader')}") is not None
            before = tr.find(f"{w('trPr')}/{w('gridBefore')}")
            column = 0
            if before is not None:
                column = clamp_span(before.get(W + "val"), MAX_COLSPAN) or 0
            cells: list[dict] = []
            for tc in tr.iterfind(w("tc")):
                span_el = tc.find(f"{w('tcPr')}/{w('gridSpan')}")
                span = 1
                if span_el is not None:
                    span = clamp_span(span_el.get(W + "val"), MAX_COLSPAN) or 1
                vmerge = tc.find(f"{w('tcPr')}/{w('vMerge')}")
                if vmerge is not None and vmerge.get(W + "val") != "restart":
                    if column in merging:
                        merging[column]["rowspan"] += 1
                        column += span
                        continue
                content = self._cell(tc)
                if header and content.startswith("<strong>") and content.count("<strong>") == 1:
                    content = content.removeprefix("<strong>").removesuffix("</strong>")
                cell = {"tag": "th" if header else "td", "colspan": span, "rowspan": 1,
                        "html": content}  # fmt: skip
                if vmerge is not None:
                    merging[column] = cell
                else:
                    merging.pop(column, None)
                cells.append(cell)
                column += span
            rows.append(cells)
        out = ["<table><tbody>"]
        for cells in rows:
            out.append("<tr>")
            for cell in cells:
                attrs = "".join(
                    f' {name}="{cell[name]}"' for name in ("colspan", "rowspan") if cell[name] > 1
                )
                out.append(f"<{cell['tag']}{attrs}>{cell['html']}</{cell['tag']}>")
            out.append("</tr>")
        out.append("</tbody></table>")
        return "".join(out)

    def _cell(self, tc) -> str:
        inner = copy.copy(self)
        inner._reset()
        inner.notes = self.notes  # footnote numbers run on through the section
        for block in tc:
            if block.tag == w("p"):
                inner.paragraph(block, _style_of(block))
            elif block.tag == w("tbl"):
                inner.table(block)
        inner.close_lists()
        inner._flush_pre()
        inner.out.extend(inner.after)
        if len(inner.out) == 1 and inner.out[0].startswith("<p>"):
            return inner.out[0][3:-4]
        return "".join(inner.out)

    # -- per section ----------------------------------------------------------------
    def has_content(self) -> bool:
        return bool(self.out or self.pre or self.lists or self.after)

    def finish(self) -> str:
        self.close_lists()
        self._flush_pre()
        self.out.extend(self.after)
        if self.notes:
            self.out.append("<hr>")
            self.out.extend(self.notes)
        body = "".join(self.out)
        self._reset()
        return body

    def report_dropped(self) -> None:
        n = self.dropped
        messages = {
            "chart": ngettext(
                "%(n)d 个图表无法导入，已略过（可在 Word 里把图表另存为图片再插入）。",
                "%(n)d 个图表无法导入，已略过（可在 Word 里把图表另存为图片再插入）。",
                n["chart"],
            ),
            "smartart": ngettext(
                "%(n)d 个 SmartArt 图形无法导入，已略过。",
                "%(n)d 个 SmartArt 图形无法导入，已略过。",
                n["smartart"],
            ),
            "shape": ngettext(
                "%(n)d 个绘图形状（不是图片）无法导入，已略过。",
                "%(n)d 个绘图形状（不是图片）无法导入，已略过。",
                n["shape"],
            ),
            "object": ngettext(
                "%(n)d 个嵌入对象（如 Excel 表格、旧式公式）无法导入，已略过。",
                "%(n)d 个嵌入对象（如 Excel 表格、旧式公式）无法导入，已略过。",
                n["object"],
            ),
            "equation": ngettext(
                "%(n)d 个公式无法导入，已略过。", "%(n)d 个公式无法导入，已略过。", n["equation"]
            ),
            "linked_image": ngettext(
                "%(n)d 张链接到外部文件的图片无法导入（文件不在文档里）。",
                "%(n)d 张链接到外部文件的图片无法导入（文件不在文档里）。",
                n["linked_image"],
            ),
            "link": ngettext(
                "%(n)d 个指向本地文件或其他程序的链接已去掉，文字保留。",
                "%(n)d 个指向本地文件或其他程序的链接已去掉，文字保留。",
                n["link"],
            ),
            "textbox": ngettext(
                "%(n)d 个文本框里的文字已作为普通段落导入。",
                "%(n)d 个文本框里的文字已作为普通段落导入。",
                n["textbox"],
            ),
            "deleted": _("文档里有未处理的修订，按“接受全部修订”导入：已删除的文字没有导入。"),
            "comments": _("文档里的批注没有导入。"),
        }
        for kind, message in messages.items():
            if n[kind]:
                self.parsed.warn(message % {"n": n[kind]})


def _style_of(p) -> str | None:
    style = p.find(f"{w('pPr')}/{w('pStyle')}")
    return style.get(W + "val") if style is not None else None


def _as_run(choice):
    run = etree.Element(w("r"))
    for child in choice:
        run.append(copy.deepcopy(child))
    return run


def _join_runs(pieces: list[tuple[tuple, str]]) -> str:
    """Merge neighbouring runs with the same formatting (Word splits runs freely)."""
    out: list[str] = []
    current: tuple | None = None
    buffer: list[str] = []

    def flush() -> None:
        if not buffer:
            return
        text = "".join(buffer)
        for tag in reversed(current or ()):
            text = f"<{tag}>{text}</{tag}>"
        out.append(text)
        buffer.clear()

    for fmt, text in pieces:
        if not text:
            continue
        if fmt != current:
            flush()
            current = fmt
        buffer.append(text)
    flush()
    return "".join(out)
