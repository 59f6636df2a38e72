"""Page numbers stamped onto the finished book.

Chapters are rendered (and cached) on their own, so a chapter does not know on which page
it will start. The numbers are therefore added at the end: a tiny "digit sheet" is set by
WeasyPrint in the theme's folio font once, and its embedded font and glyph codes are reused
to write each page's number straight into the merged PDF. Text stays real text (pdftotext
reads it) and the font stays an embedded subset.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
)

from printing.theming import Folio

FONT_NAME = NameObject("/LbFolio")
MM = 72 / 25.4


@dataclass
class DigitSheet:
    path: Path
    codes: dict[str, bytes]
    widths: dict[str, float]  # per 1000 units of font size


def sheet_characters(folio: Folio) -> str:
    chars = "0123456789" + folio.format.replace("{n}", "")
    return "".join(dict.fromkeys(c for c in chars if not c.isspace()))


def render_digit_sheet(*, folio: Folio, path: Path) -> None:
    from weasyprint import HTML

    text = html.escape(sheet_characters(folio))
    HTML(
        string=(
            '<html lang="zh-CN"><style>@page { size: 200mm 20mm; margin: 2mm }'
            f"p {{ font-family: '{folio.font}', sans-serif; font-size: 10pt; margin: 0;"
            " font-kerning: none; font-variant-ligatures: none }</style>"
            f"<p>{text}</p></html>"
        )
    ).write_pdf(path)


def _string_bytes(obj) -> bytes:
    if hasattr(obj, "original_bytes"):
        return obj.original_bytes
    return bytes(obj)


def _widths(font) -> tuple[dict[int, float], float]:
    descendant = font["/DescendantFonts"][0].get_object()
    default = float(descendant.get("/DW", 1000))
    table: dict[int, float] = {}
    raw = list(descendant.get("/W", []))
    i = 0
    while i < len(raw):
        first = int(raw[i])
        nxt = raw[i + 1]
        if isinstance(nxt, list | ArrayObject):
            for offset, width in enumerate(nxt):
                table[first + offset] = float(width)
            i += 2
        else:
            for cid in range(first, int(nxt) + 1):
                table[cid] = float(raw[i + 2])
            i += 3
    return table, default


def load_digit_sheet(*, folio: Folio, path: Path) -> tuple[DigitSheet, PdfReader]:
    reader = PdfReader(path)
    page = reader.pages[0]
    fonts = page["/Resources"]["/Font"]
    stream = ContentStream(page.get_contents(), reader)
    font_key, raw = None, b""
    for operands, operator in stream.operations:
        if operator == b"Tf":
            font_key = operands[0]
        elif operator == b"Tj":
            raw += _string_bytes(operands[0])
        elif operator == b"TJ":
            for part in operands[0]:
                if not isinstance(part, int | float) and hasattr(part, "__bytes__"):
                    raw += _string_bytes(part)
                elif isinstance(part, str):
                    raw += _string_bytes(part)
    chars = sheet_characters(folio)
    if font_key is None or len(raw) != 2 * len(chars):
        raise RuntimeError("digit sheet did not come out as one glyph per character")
    font = fonts[font_key].get_object()
    table, default = _widths(font)
    codes = {c: raw[2 * i : 2 * i + 2] for i, c in enumerate(chars)}
    widths = {c: table.get(int.from_bytes(code, "big"), default) for c, code in codes.items()}
    return DigitSheet(path=path, codes=codes, widths=widths), reader


def stamp_page_numbers(
    *, writer: PdfWriter, folio: Folio, sheet_path: Path, skip: set[int]
) -> None:
    """Write 1-based physical page numbers on every page whose index is not in ``skip``."""
    sheet, reader = load_digit_sheet(folio=folio, path=sheet_path)
    page = reader.pages[0]
    font_key = next(iter(page["/Resources"]["/Font"]))
    font_ref = page["/Resources"]["/Font"].raw_get(font_key).clone(writer).indirect_reference
    r, g, b = folio.color
    opening_stream = DecodedStreamObject()
    opening_stream.set_data(b"q\n")
    opening = writer._add_object(opening_stream)
    for index, target in enumerate(writer.pages):
        if index in skip:
            continue
        text = folio.format.replace("{n}", str(index + 1))
        glyphs = [c for c in text if not c.isspace() and c in sheet.codes]
        spaces = sum(1 for c in text if c.isspace())
        size = folio.size
        width = (sum(sheet.widths[c] for c in glyphs) + 250 * spaces) * size / 1000
        box = target.mediabox
        x = float(box.left) + (float(box.width) - width) / 2
        y = float(box.bottom) + folio.bottom_mm * MM
        ops = [f"Q q {r:.3f} {g:.3f} {b:.3f} rg BT /LbFolio {size:.2f} Tf {x:.2f} {y:.2f} Td"]
        for c in text:
            if c.isspace():
                ops.append(f"{0.25 * size:.2f} 0 Td")
                continue
            if c not in sheet.codes:
                continue
            ops.append(f"<{sheet.codes[c].hex()}> Tj {sheet.widths[c] * size / 1000:.3f} 0 Td")
        ops.append("ET Q\n")
        closing = DecodedStreamObject()
        closing.set_data("\n".join(ops).encode("ascii"))
        closing_ref = writer._add_object(closing)
        contents = target.get("/Contents")
        parts = ArrayObject([opening])
        if contents is not None:
            resolved = contents.get_object()
            if isinstance(resolved, ArrayObject):
                parts.extend(resolved)
            else:
                parts.append(contents)
        parts.append(closing_ref)
        target[NameObject("/Contents")] = parts
        resources = target.get("/Resources")
        resources = resources.get_object() if resources is not None else DictionaryObject()
        target[NameObject("/Resources")] = resources
        font_dict = resources.get("/Font")
        font_dict = font_dict.get_object() if font_dict is not None else DictionaryObject()
        font_dict[FONT_NAME] = font_ref
        resources[NameObject("/Font")] = font_dict
