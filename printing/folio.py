"""Page numbers stamped onto the finished book.

Chapters are rendered (and cached) on their own, so a chapter does not know on which page
it will start. The numbers are therefore added at the end: a tiny "digit sheet" is set by
WeasyPrint in the theme's folio font once, and its embedded font and glyph codes are reused
to write each page's number straight into the merged PDF. Text stays real text (pdftotext
reads it) and the font stays an embedded subset.
"""

from __future__ import annotations

import html
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Array, Name

from printing.theming import Folio

FONT_NAME = Name("/LbFolio")
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


def _widths(font) -> tuple[dict[int, float], float]:
    descendant = font.DescendantFonts[0]
    default = float(descendant.get("/DW", 1000))
    table: dict[int, float] = {}
    raw = list(descendant.get("/W", []))
    i = 0
    while i < len(raw):
        first = int(raw[i])
        nxt = raw[i + 1]
        if isinstance(nxt, Array):
            for offset, width in enumerate(nxt):
                table[first + offset] = float(width)
            i += 2
        else:
            for cid in range(first, int(nxt) + 1):
                table[cid] = float(raw[i + 2])
            i += 3
    return table, default


def load_digit_sheet(*, folio: Folio, path: Path) -> tuple[DigitSheet, pikepdf.Pdf, Name]:
    """The sheet's glyph codes and widths, the open sheet and its font's resource name."""
    sheet_pdf = pikepdf.open(path)
    page = sheet_pdf.pages[0]
    font_key, raw = None, b""
    for operands, operator in pikepdf.parse_content_stream(page, "Tf Tj TJ"):
        if operator == pikepdf.Operator("Tf"):
            font_key = operands[0]
        elif operator == pikepdf.Operator("Tj"):
            raw += bytes(operands[0])
        elif operator == pikepdf.Operator("TJ"):
            for part in operands[0]:
                if isinstance(part, pikepdf.String):
                    raw += bytes(part)
    chars = sheet_characters(folio)
    if font_key is None or len(raw) != 2 * len(chars):
        raise RuntimeError("digit sheet did not come out as one glyph per character")
    font = page.Resources.Font[font_key]
    table, default = _widths(font)
    codes = {c: raw[2 * i : 2 * i + 2] for i, c in enumerate(chars)}
    widths = {c: table.get(int.from_bytes(code, "big"), default) for c, code in codes.items()}
    return DigitSheet(path=path, codes=codes, widths=widths), sheet_pdf, font_key


def stamp_page_numbers(
    *, pdf: pikepdf.Pdf, folio: Folio, sheet_path: Path, skip: set[int], sources: ExitStack
) -> None:
    """Write 1-based physical page numbers on every page whose index is not in ``skip``.

    The digit sheet is opened in ``sources``: qpdf copies its font's bytes only when
    ``pdf`` is saved, so it must stay open until then."""
    sheet, sheet_pdf, font_key = load_digit_sheet(folio=folio, path=sheet_path)
    sources.enter_context(sheet_pdf)
    font_ref = pdf.copy_foreign(sheet_pdf.pages[0].Resources.Font[font_key])
    r, g, b = folio.color
    # One shared "q" before each page's own content, so its graphics state cannot leak
    # into the number written after it.
    opening = pdf.make_indirect(pikepdf.Stream(pdf, b"q\n"))
    for index, target in enumerate(pdf.pages):
        if index in skip:
            continue
        text = folio.format.replace("{n}", str(index + 1))
        glyphs = [c for c in text if not c.isspace() and c in sheet.codes]
        spaces = sum(1 for c in text if c.isspace())
        size = folio.size
        width = (sum(sheet.widths[c] for c in glyphs) + 250 * spaces) * size / 1000
        left, bottom, right, _top = (float(v) for v in target.mediabox)
        x = left + (right - left - width) / 2
        y = bottom + folio.bottom_mm * MM
        ops = [f"Q q {r:.3f} {g:.3f} {b:.3f} rg BT /LbFolio {size:.2f} Tf {x:.2f} {y:.2f} Td"]
        for c in text:
            if c.isspace():
                ops.append(f"{0.25 * size:.2f} 0 Td")
                continue
            if c not in sheet.codes:
                continue
            ops.append(f"<{sheet.codes[c].hex()}> Tj {sheet.widths[c] * size / 1000:.3f} 0 Td")
        ops.append("ET Q\n")
        target.contents_add(opening, prepend=True)
        target.contents_add(pdf.make_stream("\n".join(ops).encode("ascii")))
        target.add_resource(font_ref, Name.Font, FONT_NAME)
