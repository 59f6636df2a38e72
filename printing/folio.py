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


# The contents' page numbers and leader dots: stamped like the folios, each number in its
# entry's room and each dot where the contents' (hidden) leader put one (see base.css), in
# the font, size and colour the contents give .toc-page at that level, read off a sheet
# the contents' own stylesheets set. WeasyPrint draws a leader dot by dot, as dearly as
# the words of a page: the contents took seconds to set.
CONTENTS_DIGITS = "0123456789"
LEADER_DOT = "·"
CONTENTS_GLYPHS = CONTENTS_DIGITS + LEADER_DOT


@dataclass
class GlyphRun:
    """One line of a sheet: its font (by resource name), size, colour and a code per digit."""

    font_key: Name
    size: float  # PDF points
    color: tuple[float, float, float]
    codes: dict[str, bytes]
    widths: dict[str, float]  # per 1000 units of font size


def read_glyph_runs(page: pikepdf.Page, chars: str) -> list[GlyphRun]:
    """Every text run of a WeasyPrint sheet page whose runs each set ``chars`` once."""
    runs: list[GlyphRun] = []
    scale, color, font_key, size, text_scale = [1.0], [(0.0, 0.0, 0.0)], None, 0.0, 1.0
    for operands, operator in pikepdf.parse_content_stream(page, "q Q cm rg Tf Tm Tj TJ"):
        op = str(operator)
        if op == "q":
            scale.append(scale[-1])
            color.append(color[-1])
        elif op == "Q" and len(scale) > 1:
            scale.pop()
            color.pop()
        elif op == "cm":
            scale[-1] *= abs(float(operands[0]))
        elif op == "rg":
            color[-1] = tuple(float(v) for v in operands)
        elif op == "Tf":
            font_key, size = operands[0], float(operands[1])
        elif op == "Tm":
            text_scale = abs(float(operands[0])) or 1.0
        elif op in ("Tj", "TJ"):
            parts = [operands[0]] if op == "Tj" else list(operands[0])
            raw = b"".join(bytes(p) for p in parts if isinstance(p, pikepdf.String))
            if font_key is None or len(raw) != 2 * len(chars):
                raise RuntimeError("a sheet did not come out as one glyph per character")
            table, default = _widths(page.Resources.Font[font_key])
            codes = {c: raw[2 * i : 2 * i + 2] for i, c in enumerate(chars)}
            widths = {c: table.get(int.from_bytes(b, "big"), default) for c, b in codes.items()}
            runs.append(GlyphRun(font_key, size * text_scale * scale[-1], color[-1], codes, widths))
    return runs


@dataclass
class ContentsNumber:
    page_index: int  # in the bound book (the contents come first)
    level: int  # the entry's .toc-lN
    text: str
    right: float  # PDF points: the number ends here, on this baseline
    baseline: float


@dataclass
class LeaderDots:
    page_index: int
    level: int
    baseline: float  # PDF points
    cells: list[tuple[float, float]]  # (left, width) of each " · " the leader laid out


def _run_ops(run: GlyphRun, font: str, x: float, y: float, glyphs: list[tuple[str, float]]):
    """Text operators writing each (character, x) of ``glyphs`` on baseline ``y``."""
    r, g, b = run.color
    ops = [f"{r:.3f} {g:.3f} {b:.3f} rg BT /{font} {run.size:.3f} Tf {x:.3f} {y:.3f} Td"]
    previous = x
    for char, left in glyphs:
        ops.append(f"{left - previous:.3f} 0 Td <{run.codes[char].hex()}> Tj")
        previous = left
    ops.append("ET")
    return " ".join(ops)


def stamp_contents_numbers(
    *,
    pdf: pikepdf.Pdf,
    sheet_path: Path,
    numbers: list[ContentsNumber],
    dots: list[LeaderDots],
    sources: ExitStack,
) -> None:
    """Write each contents entry's leader dots and its page number, right-aligned at its
    room's right edge."""
    if not numbers and not dots:
        return
    sheet_pdf = sources.enter_context(pikepdf.open(sheet_path))
    sheet_page = sheet_pdf.pages[0]
    runs = read_glyph_runs(sheet_page, CONTENTS_GLYPHS)
    if not runs:
        raise RuntimeError("the contents' digit sheet holds no digits")
    fonts = [pdf.copy_foreign(sheet_page.Resources.Font[run.font_key]) for run in runs]
    by_page: dict[int, list[str]] = {}

    def level_of(level: int) -> int:
        return min(max(level, 1), len(runs)) - 1

    for leader in dots:
        level = level_of(leader.level)
        run = runs[level]
        dot = run.widths[LEADER_DOT] * run.size / 1000
        glyphs = [(LEADER_DOT, left + (width - dot) / 2) for left, width in leader.cells]
        if glyphs:
            by_page.setdefault(leader.page_index, []).append(
                _run_ops(run, f"LbToc{level + 1}", glyphs[0][1], leader.baseline, glyphs)
            )
    for number in numbers:
        level = level_of(number.level)
        run = runs[level]
        x = number.right - sum(run.widths[c] for c in number.text) * run.size / 1000
        glyphs = []
        for char in number.text:
            glyphs.append((char, x))
            x += run.widths[char] * run.size / 1000
        by_page.setdefault(number.page_index, []).append(
            _run_ops(run, f"LbToc{level + 1}", glyphs[0][1], number.baseline, glyphs)
        )
    opening = pdf.make_indirect(pikepdf.Stream(pdf, b"q\n"))
    for page_index, ops in by_page.items():
        target = pdf.pages[page_index]
        target.contents_add(opening, prepend=True)
        target.contents_add(pdf.make_stream(("Q q\n" + "\n".join(ops) + "\nQ\n").encode()))
        for level, font in enumerate(fonts):
            target.add_resource(font, Name.Font, Name(f"/LbToc{level + 1}"))
