"""Word files for the import tests, written by real third-party tools.

pandoc (a Debian package) is a Word writer that is not ours; python-docx builds the edge
cases pandoc cannot express (localised style names, custom styles, direct outline levels).
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from PIL import Image as PILImage


def png_bytes(color=(200, 40, 40), size=(120, 80)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def pandoc_docx(folder: Path, markdown: str, *, name: str = "source.md") -> Path:
    source = folder / name
    source.write_text(markdown, encoding="utf-8")
    target = source.with_suffix(".docx")
    subprocess.run(["pandoc", source.name, "-o", target.name], cwd=folder, check=True, timeout=60)
    return target


def python_docx(folder: Path, build, *, name: str = "edge.docx") -> Path:
    document = Document()
    build(document)
    target = folder / name
    document.save(target)
    return target


def add_outline_style(document, name: str, *, based_on: str | None = None, level=None):
    """A paragraph style called ``name``; with ``level`` it carries that outline level."""
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if based_on:
        style.base_style = document.styles[based_on]
    if level is not None:
        outline = OxmlElement("w:outlineLvl")
        outline.set(qn("w:val"), str(level - 1))
        style.element.get_or_add_pPr().append(outline)
    return style


def set_outline_level(paragraph, level: int) -> None:
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), str(level - 1))
    paragraph._p.get_or_add_pPr().append(outline)


def outline_of(manual) -> list[tuple[int, str]]:
    return [(s.level, s.title) for s in manual.outline()]
