"""Print themes: each is a folder under printing/themes/ with theme.json, theme.css and assets.

A designer copies a folder, renames it and changes the CSS and pictures; the new theme
shows up in the print options. ``base.css`` beside the folders holds the structure every
theme shares.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

THEMES_DIR = Path(__file__).resolve().parent / "themes"
BASE_CSS = THEMES_DIR / "base.css"
DEFAULT_THEME = "plain"
# The running heads a chapter set from its middle still gets right (Theme.resumable).
RESUMABLE_STRINGS = {"chapter", "chapter, first", "section", "section, first", "toc-title"}


@dataclass(frozen=True)
class Folio:
    font: str = "Noto Sans CJK SC"
    size: float = 9
    color: tuple[float, float, float] = (0.3, 0.3, 0.3)
    bottom_mm: float = 11
    format: str = "{n}"


@dataclass(frozen=True)
class Theme:
    name: str
    path: Path
    label: str
    label_en: str
    description: str
    image_style: str
    folio: Folio = field(default_factory=Folio)

    @property
    def css_path(self) -> Path:
        return self.path / "theme.css"

    @property
    def display_name(self) -> str:
        return self.label_en if (get_language() or "").startswith("en") else self.label

    @property
    def resumable(self) -> bool:
        """Whether a chapter's pages can be set again from one that begins with a section
        (printing.render): nothing on a page may depend on the pages before it but the
        chapter's name, which the tail carries, and the section's, which that page sets."""
        css = BASE_CSS.read_text(encoding="utf-8") + self.css_path.read_text(encoding="utf-8")
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        sided = (
            r"@page[^{]*:(left|right|first|blank|nth\()"
            r"|break-(before|after)\s*:\s*(left|right|recto|verso)"
        )
        if re.search(r"counters?\(|element\(|running\(|" + sided, css):
            return False
        strings = {" ".join(m.split()) for m in re.findall(r"string\(([^)]*)\)", css)}
        return strings <= RESUMABLE_STRINGS

    def fingerprint(self) -> str:
        """Changes whenever any file of the theme (or the shared base) changes."""
        digest = hashlib.sha256()
        for file in [BASE_CSS, *sorted(p for p in self.path.rglob("*") if p.is_file())]:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
        return digest.hexdigest()[:16]


def _load(folder: Path) -> Theme:
    meta = json.loads((folder / "theme.json").read_text(encoding="utf-8"))
    folio = meta.get("folio", {})
    return Theme(
        name=folder.name,
        path=folder,
        label=meta.get("label", folder.name),
        label_en=meta.get("label_en", meta.get("label", folder.name)),
        description=meta.get("description", ""),
        image_style=meta.get("image_style", "none"),
        folio=Folio(
            font=folio.get("font", Folio.font),
            size=float(folio.get("size", Folio.size)),
            color=tuple(folio.get("color", Folio.color)),
            bottom_mm=float(folio.get("bottom_mm", Folio.bottom_mm)),
            format=folio.get("format", Folio.format),
        ),
    )


@cache
def available_themes() -> dict[str, Theme]:
    themes = {}
    for folder in sorted(THEMES_DIR.iterdir()):
        if (folder / "theme.json").is_file() and (folder / "theme.css").is_file():
            themes[folder.name] = _load(folder)
    return themes


def get_theme(name: str | None) -> Theme:
    themes = available_themes()
    return themes.get(name or DEFAULT_THEME) or themes[DEFAULT_THEME]


def theme_choices() -> list[tuple[str, str]]:
    return [(t.name, t.display_name) for t in available_themes().values()]
