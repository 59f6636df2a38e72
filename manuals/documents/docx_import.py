""".docx → outline: refuse what is not a safe Word file, then turn headings into sections.

A paragraph is a heading when it has an outline level: set directly on the paragraph, on
its style, or on a style that style is based on, or when the style is one of Word's heading
styles under any name (``heading 1``, localised ``标题 1``). Text before the first heading
becomes an introduction; each heading's section holds the blocks up to the next heading.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from django.utils.translation import gettext as _
from lxml import etree

from manuals.bulk import NewSection
from manuals.documents.docx_content import BodyWriter, W, paragraph_text, w
from manuals.documents.types import HeadingDepths, ImportRefused, ParsedDocument
from manuals.models import TITLE_MAX_LENGTH

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Limits on what a .docx may unpack to: real documents stay far below them, bombs do not.
MAX_ENTRIES = 10_000
MAX_PART_BYTES = 128 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 4096
HEADING_NAME = re.compile(
    r"^(?:heading|标题|標題|titre|überschrift|título|titolo|заголовок|見出し|제목)\s*([1-9])$"
)
TOC_NAME = re.compile(r"^(?:(?:toc|目录|目錄)\s*[1-9]|toc heading|目录标题)$")
TITLE_NAMES = {"title", "标题", "標題"}


def refuse_unsafe_package(path: Path, *, word_only: bool = True) -> None:
    """Explain, before any XML is parsed, why a file is not a .docx we can safely open.

    With ``word_only`` False only the zip itself is checked (archives, Markdown zips)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head == OLE_MAGIC:
        if _is_encrypted_ole(path):
            raise ImportRefused(
                _(
                    "这个文档设置了打开密码，无法读取。请在 Word 里打开它，"
                    "在“文件 → 信息 → 保护文档 → 用密码进行加密”中清空密码并保存后再上传。"
                )
            )
        raise ImportRefused(
            _("这是旧版 Word 97-2003 文档（.doc）。请在 Word 里“另存为” .docx 格式后再上传。")
        )
    if not zipfile.is_zipfile(path):
        raise ImportRefused(
            _("这不是 Word 文档（.docx）：文件内容不是 .docx 格式。请确认上传的是 Word 文件。")
        )
    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportRefused(_("文件已损坏，无法打开（%(error)s）。") % {"error": error}) from error
    if word_only and (
        "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names)
    ):
        if any(n.startswith("xl/") for n in names):
            raise ImportRefused(_("这是 Excel 表格，不是 Word 文档。请上传 .docx 文件。"))
        if any(n.startswith("ppt/") for n in names):
            raise ImportRefused(_("这是 PowerPoint 演示文稿，不是 Word 文档。请上传 .docx 文件。"))
        raise ImportRefused(
            _("这是一个 zip 压缩包，但里面不是 Word 文档。请上传 .docx 文件、Markdown 或手册归档。")
        )
    total = sum(info.file_size for info in infos)
    bomb = (
        len(infos) > MAX_ENTRIES
        or total > MAX_TOTAL_BYTES
        or any(info.file_size > MAX_PART_BYTES for info in infos)
        # Every member: a small one cannot expand far, since its compressed size counts as
        # at least RATIO_FLOOR_BYTES (so parts under 800 KB always pass).
        or any(
            info.file_size > MAX_RATIO * max(info.compress_size, RATIO_FLOOR_BYTES)
            for info in infos
        )
    )
    if bomb:
        raise ImportRefused(
            _(
                "这个文档解压后异常巨大（%(mb)d MB，可能是恶意的“压缩炸弹”），"
                "为保护系统已拒绝导入。"
                "如果它是正常文档，请在 Word 里删去不需要的大附件后另存再试。"
            )
            % {"mb": total // (1024 * 1024)}
        )


def _is_encrypted_ole(path: Path) -> bool:
    # Encrypted .docx files are OLE containers holding "EncryptionInfo" and
    # "EncryptedPackage" streams; their directory entries store names in UTF-16.
    marker = "EncryptionInfo".encode("utf-16-le")
    with open(path, "rb") as handle:
        tail = b""
        while chunk := handle.read(1024 * 1024):
            if marker in tail + chunk:
                return True
            tail = chunk[-len(marker) :]
    return False


def open_docx(path: Path):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    refuse_unsafe_package(path)
    try:
        return docx.Document(str(path))
    except ValueError as error:
        raise ImportRefused(
            _(
                "这不是普通的 Word 文档（可能是带宏的 .docm 或 Word 模板）。"
                "请在 Word 里另存为 .docx。"
            )
        ) from error
    except (PackageNotFoundError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError) as error:
        raise ImportRefused(_("文档已损坏，无法读取（%(error)s）。") % {"error": error}) from error
    except Exception as error:  # python-docx meets hostile XML with arbitrary errors
        raise ImportRefused(
            _("文档已损坏或结构不完整，无法读取。请在 Word 里打开并另存为 .docx 后再试。")
        ) from error


class StyleLevels:
    """Outline level (1–9) of each paragraph style, following basedOn chains."""

    def __init__(self, document):
        self.styles: dict[str, tuple[str, str | None, int | None]] = {}
        self.default_id: str | None = None
        root = document.styles.element
        for style in root.iterfind(w("style")):
            if style.get(W + "type") != "paragraph":
                continue
            style_id = style.get(W + "styleId")
            name = style.find(w("name"))
            based = style.find(w("basedOn"))
            outline = style.find(f"{w('pPr')}/{w('outlineLvl')}")
            self.styles[style_id] = (
                (name.get(W + "val") if name is not None else style_id).strip().lower(),
                based.get(W + "val") if based is not None else None,
                int(outline.get(W + "val")) if outline is not None else None,
            )
            if style.get(W + "default") in {"1", "true"}:
                self.default_id = style_id
        self._cache: dict[str | None, int | None] = {}

    def name(self, style_id: str | None) -> str:
        entry = self.styles.get(style_id or self.default_id or "")
        return entry[0] if entry else ""

    def level(self, style_id: str | None) -> int | None:
        style_id = style_id or self.default_id
        if style_id not in self._cache:
            self._cache[style_id] = self._resolve(style_id)
        return self._cache[style_id]

    def _resolve(self, style_id: str | None) -> int | None:
        seen: set[str] = set()
        while style_id and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            name, based_on, outline = self.styles[style_id]
            if outline is not None:
                return outline + 1 if outline < 9 else None
            match = HEADING_NAME.match(name) or HEADING_NAME.match(style_id.lower())
            if match:
                return int(match.group(1))
            style_id = based_on
        return None

    def is_title(self, style_id: str | None) -> bool:
        return self.name(style_id) in TITLE_NAMES or (style_id or "").lower() == "title"

    def is_toc(self, style_id: str | None) -> bool:
        return bool(TOC_NAME.match(self.name(style_id)))


def _is_toc_field(p) -> bool:
    return any(
        (text.text or "").strip().upper().startswith("TOC") for text in p.iter(w("instrText"))
    )


def _style_id(p) -> str | None:
    style = p.find(f"{w('pPr')}/{w('pStyle')}")
    return style.get(W + "val") if style is not None else None


def paragraph_level(p, levels: StyleLevels) -> int | None:
    direct = p.find(f"{w('pPr')}/{w('outlineLvl')}")
    if direct is not None:
        value = int(direct.get(W + "val", "9"))
        return value + 1 if value < 9 else None
    return levels.level(_style_id(p))


def _blocks(container, parsed: ParsedDocument):
    """Paragraphs and tables in reading order, looking inside content controls."""
    for child in container:
        if child.tag in (w("p"), w("tbl")):
            yield child
        elif child.tag == w("sdt"):
            gallery = child.find(f"{w('sdtPr')}/{w('docPartObj')}/{w('docPartGallery')}")
            if gallery is not None and "Table of Contents" in (gallery.get(W + "val") or ""):
                parsed.warn(_("已跳过文档里原有的目录；导出 Word 时会重新生成目录。"))
                continue
            content = child.find(w("sdtContent"))
            if content is not None:
                yield from _blocks(content, parsed)
        elif child.tag in (w("customXml"), w("ins"), w("moveTo")):
            yield from _blocks(child, parsed)
        elif child.tag == w("altChunk"):
            parsed.warn(_("文档里嵌入的其他格式文件（altChunk）无法导入，已略过。"))


def read_docx(path: Path, *, name: str) -> ParsedDocument:
    document = open_docx(path)
    try:
        return _outline(document, name)
    except ImportRefused:
        raise
    except (ValueError, KeyError, AttributeError, TypeError, etree.LxmlError) as error:
        raise ImportRefused(
            _("文档内容有不符合 Word 格式的地方，无法读取。请在 Word 里打开并另存为 .docx 后再试。")
        ) from error


def _outline(document, name: str) -> ParsedDocument:
    levels = StyleLevels(document)
    fallback_title = (document.core_properties.title or "").strip() or Path(name).stem
    parsed = ParsedDocument(source="docx", title=fallback_title, sections=[])
    writer = BodyWriter(document, parsed, levels)
    intro_title = _("引言")
    current: NewSection | None = None
    depths = HeadingDepths(parsed)
    title_from_paragraph = False

    def close_current() -> None:
        if current is not None:
            current.body = writer.finish()
        elif writer.has_content():
            body = writer.finish()
            parsed.sections.append(NewSection(1, intro_title, body))

    for block in _blocks(document.element.body, parsed):
        if block.tag == w("tbl"):
            writer.table(block)
            continue
        style_id = _style_id(block)
        if levels.is_toc(style_id) or _is_toc_field(block):
            parsed.warn(_("已跳过文档里原有的目录；导出 Word 时会重新生成目录。"))
            continue
        level = paragraph_level(block, levels)
        text = " ".join(paragraph_text(block).split())
        if level is None and current is None and text and levels.is_title(style_id):
            # The document's title names the manual; it is not part of the introduction.
            if not title_from_paragraph:
                parsed.title, title_from_paragraph = text[:TITLE_MAX_LENGTH], True
            continue
        if level is None or not text:
            writer.paragraph(block, style_id)
            continue
        close_current()
        depth = depths.depth_for(level, text)
        title = text
        if len(text) > TITLE_MAX_LENGTH:
            title = text[: TITLE_MAX_LENGTH - 1] + "…"
            parsed.warn(
                _("标题“%(start)s…”超过 %(max)d 个字符，已截短；完整文字放在这一节正文开头。")
                % {"start": text[:20], "max": TITLE_MAX_LENGTH}
            )
            writer.paragraph(block, None)
        current = NewSection(depth, title)
        parsed.sections.append(current)
    close_current()
    writer.report_dropped()

    if not parsed.sections:
        raise ImportRefused(_("这个文档是空的：没有标题，也没有正文。"))
    if len(parsed.sections) == 1 and parsed.sections[0].title == intro_title:
        parsed.sections[0].title = parsed.title[:TITLE_MAX_LENGTH]
        parsed.warn(
            _(
                "文档里没有找到标题样式（标题 1、标题 2……），整篇作为一节导入。"
                "如需分章节，请在 Word 里给章节标题套用“标题”样式后重新导入。"
            )
        )
    return parsed
