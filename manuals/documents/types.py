"""What every reader of documents hands to the import: the bottom module of documents/.

``ParsedDocument`` is the outline as ``NewSection`` items whose bodies may hold image
placeholders, the pictures still as bytes, and warnings for the user. Readers (docx_import,
markdown, archive) build one; importing.py writes it. Nothing here imports a reader, so
no module of documents/ imports in a circle.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image as PILImage

from manuals.bulk import NewSection
from manuals.images.pipeline import ACCEPTED_FORMATS, ImageRejected, check_upload_size
from manuals.models import Image, Manual, Section

# A manual is designed for 5,000 sections; a document with far more is not an outline.
MAX_SECTIONS = 20_000
MAX_LISTED_WARNINGS = 30
IMG_TAG = re.compile(r"<img\b[^>]*>")
PLACEHOLDER_KEY = re.compile(r'data-image-id="import:([\w.-]+)"')

Progress = Callable[[str, int, int], None]


class ImportRefused(Exception):
    """The file cannot be imported; the message tells the user why and what to do."""


@dataclass
class PendingImage:
    key: str
    name: str
    data: bytes
    caption: str = ""
    purpose: str = Image.Purpose.SECTION


@dataclass
class ParsedDocument:
    source: str  # "docx", "md" or "archive"
    title: str
    sections: list[NewSection]
    images: dict[str, PendingImage] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Archives restore more than an outline: revisions and image details, and, when the
    # archive becomes a new manual of its own (``whole_manual``), the manual's flags.
    finish: Callable[[Manual, list[Section], dict[str, Image], bool], None] | None = None

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def precheck_images(self) -> None:
        """Tell the preview which pictures the image pipeline will refuse (a header check;
        the pipeline itself decides at import time)."""
        refused = []
        for pending in self.images.values():
            try:
                check_upload_size(len(pending.data))
                with PILImage.open(io.BytesIO(pending.data), formats=ACCEPTED_FORMATS):
                    pass
            except ImageRejected as error:
                refused.append(f"{pending.name}（{error}）")
            except Exception:  # Pillow reports unknown or broken files in many ways
                refused.append(pending.name)
        if refused:
            self.warn(
                ngettext(
                    "%(n)d 张图片无法导入（只支持 JPEG、PNG、WebP 和 GIF，例如 Word 里的 EMF/WMF "
                    "矢量图不行），导入时会跳过并在原处留下说明：%(names)s",
                    "%(n)d 张图片无法导入（只支持 JPEG、PNG、WebP 和 GIF，例如 Word 里的 EMF/WMF "
                    "矢量图不行），导入时会跳过并在原处留下说明：%(names)s",
                    len(refused),
                )
                % {"n": len(refused), "names": "、".join(refused[:10])}
            )

    def summary(self) -> dict:
        warnings = self.warnings[:MAX_LISTED_WARNINGS]
        if len(self.warnings) > MAX_LISTED_WARNINGS:
            more = len(self.warnings) - MAX_LISTED_WARNINGS
            warnings.append(
                ngettext("……还有 %(n)d 条类似提示。", "……还有 %(n)d 条类似提示。", more)
                % {"n": more}
            )
        return {
            "source": self.source,
            "title": self.title,
            "sections": len(self.sections),
            "depth": max((s.depth for s in self.sections), default=0),
            "images": len(self.images),
            "characters": sum(len(_plain(s.body)) for s in self.sections),
            "warnings": warnings,
            "outline": [[s.depth, s.title] for s in self.sections],
        }


class HeadingDepths:
    """Document heading levels (which may skip: 1 → 4) → tree depths without gaps."""

    def __init__(self, parsed: ParsedDocument):
        self.parsed = parsed
        self.open: list[int] = []

    def depth_for(self, level: int, title: str) -> int:
        while self.open and self.open[-1] >= level:
            self.open.pop()
        depth = len(self.open) + 1
        if self.open and level > self.open[-1] + 1:
            self.parsed.warn(
                _(
                    "标题“%(title)s”从第 %(from)d 级跳到了第 %(to)d 级，"
                    "已作为上一个标题的下一级（第 %(depth)d 级）导入。"
                )
                % {"title": title[:40], "from": self.open[-1], "to": level, "depth": depth}
            )
        self.open.append(level)
        return depth


def _plain(body: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def placeholder(key: str, alt: str = "") -> str:
    """A picture not stored yet; the import fills in its id and real size."""
    return (
        f'<img src="/images/import:{key}/" data-image-id="import:{key}" '
        f'alt="{html.escape(alt, quote=True)}" width="import" height="import">'
    )


def resolve_placeholders(body: str, stored: dict[str, Image], names: dict[str, str]) -> str:
    """Point each placeholder picture at its stored Image, keeping the tag's other
    attributes; a picture that could not be stored becomes a visible note."""

    def swap(match: re.Match) -> str:
        tag = match.group(0)
        found = PLACEHOLDER_KEY.search(tag)
        if found is None:
            return tag
        key = found.group(1)
        image = stored.get(key)
        if image is None:
            name = names.get(key, key)
            return "<em>" + html.escape(_("［图片未能导入：%(name)s］") % {"name": name}) + "</em>"
        tag = tag.replace(f"/images/import:{key}/", f"/images/{image.pk}/")
        tag = tag.replace('width="import"', f'width="{image.width}"')
        tag = tag.replace('height="import"', f'height="{image.height}"')
        return tag.replace(f'"import:{key}"', f'"{image.pk}"')

    return IMG_TAG.sub(swap, body)
