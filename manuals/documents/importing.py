"""Bring a document (.docx, Markdown, our archive) into a manual in one transaction.

Reading a file gives a ``ParsedDocument``: the outline as ``NewSection`` items whose bodies
may hold image placeholders, the pictures still as bytes, and warnings for the user. The
preview shows its ``summary()``; ``import_document`` then writes it: every picture through
the image pipeline, every section with one bulk tree insert, all or nothing.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from manuals.bulk import NewSection, insert_sections
from manuals.models import Image, Manual, Section
from manuals.signals import sections_changed
from manuals.tree import create_manual, lock_manual, retry_deadlocks

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
    # Archives restore more than an outline (revisions, image details, the manual's flags).
    finish: Callable[[Manual, list[Section], dict[str, Image]], None] | None = None

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def precheck_images(self) -> None:
        """Tell the preview which pictures the image pipeline will refuse (a header check;
        the pipeline itself decides at import time)."""
        from PIL import Image as PILImage

        from manuals.images.pipeline import ACCEPTED_FORMATS, ImageRejected, check_upload_size

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


def read_document(
    path: Path, *, name: str | None = None, local_images: bool = False
) -> ParsedDocument:
    """Parse a .docx, a Markdown file or one of our archives, chosen by content.

    ``local_images``: a Markdown file may pull pictures from its own folder (the command
    line does this; an upload has no folder)."""
    from manuals.documents import archive, docx_import, markdown

    name = name or path.name
    with open(path, "rb") as handle:
        head = handle.read(8)
    suffix = Path(name).suffix.lower()
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        docx_import.refuse_unsafe_package(path, word_only=False)
        if archive.is_archive(path):
            return archive.read_archive(path)
        if markdown.is_markdown_zip(path):
            return markdown.read_markdown_zip(path, name=name)
        return docx_import.read_docx(path, name=name)
    if suffix in {".md", ".markdown", ".txt"}:
        base_dir = path.parent if local_images else None
        return markdown.read_markdown_file(path, name=name, base_dir=base_dir)
    # Not a zip: explain why a Word file was refused (old .doc, encrypted, or not Word).
    return docx_import.read_docx(path, name=name)


def _store_images(
    *, manual: Manual, parsed: ParsedDocument, user, stored_files: list[str], progress
) -> dict[str, Image]:
    from manuals.images.pipeline import ImageRejected, store_image

    stored: dict[str, Image] = {}
    # store_image hands back an existing row for a picture the manual already has: only
    # files this import wrote may be removed if it fails.
    existing = set(Image.objects.filter(manual=manual).values_list("pk", flat=True))
    total = len(parsed.images)
    for done, pending in enumerate(parsed.images.values(), start=1):
        try:
            image = store_image(
                manual=manual,
                data=pending.data,
                original_name=pending.name,
                purpose=pending.purpose,
                user=user,
                caption=pending.caption,
            )
        except ImageRejected as refused:
            parsed.warn(
                _("图片 %(name)s 未导入：%(reason)s") % {"name": pending.name, "reason": refused}
            )
            continue
        if image.pk not in existing:
            stored_files.extend(f.name for f in (image.file, image.thumbnail) if f)
        stored[pending.key] = image
        if progress:
            progress("images", done, total)
    return stored


@retry_deadlocks
def import_document(
    *,
    parsed: ParsedDocument,
    owner,
    title: str | None = None,
    target: Section | None = None,
    progress: Progress | None = None,
) -> Manual:
    """Write ``parsed`` as a new manual of ``owner`` or under ``target`` (in a manual the
    owner may write). One transaction: on any error nothing stays, not even image files."""
    from manuals.tree import TreeError

    if not parsed.sections:
        raise ImportRefused(_("文档里没有可以导入的内容。"))
    if len(parsed.sections) > MAX_SECTIONS:
        raise ImportRefused(
            _("文档有 %(n)d 个章节，超过了一次导入的上限 %(max)d 个。请拆分后分别导入。")
            % {"n": len(parsed.sections), "max": MAX_SECTIONS}
        )
    stored_files: list[str] = []
    try:
        with transaction.atomic():
            if target is None:
                manual = create_manual(
                    owner=owner, title=(title or parsed.title)[:200] or _("导入的手册")
                )
            else:
                manual = lock_manual(target.manual_id)
                if not manual.can_write(owner):
                    raise ImportRefused(_("你不能修改这本手册。"))
            stored = _store_images(
                manual=manual, parsed=parsed, user=owner, stored_files=stored_files,
                progress=progress,
            )  # fmt: skip
            names = {key: image.name for key, image in parsed.images.items()}
            sections = [
                replace(s, body=resolve_placeholders(s.body, stored, names))
                if "/images/import:" in s.body
                else s
                for s in parsed.sections
            ]
            if progress:
                progress("sections", 0, len(sections))
            rows = insert_sections(
                manual=manual, parent=target, sections=sections, user=owner,
                revision_note=None if parsed.finish else _("导入"),
            )  # fmt: skip
            if parsed.finish:
                parsed.finish(manual, rows, stored)
            if progress:
                progress("sections", len(sections), len(sections))
            section_ids = None if target is None else [row.pk for row in rows]
            sections_changed.send(sender=Section, manual_id=manual.pk, section_ids=section_ids)
    except TreeError as error:
        _delete_files(stored_files)
        raise ImportRefused(str(error)) from error
    except BaseException:
        _delete_files(stored_files)
        raise
    manual.refresh_from_db()
    return manual


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            pass
