"""Bring a document (.docx, Markdown, our archive) into a manual in one transaction.

Reading a file gives a ``ParsedDocument``: the outline as ``NewSection`` items whose bodies
may hold image placeholders, the pictures still as bytes, and warnings for the user. The
preview shows its ``summary()``; ``import_document`` then writes it: every picture through
the image pipeline, every section with one bulk tree insert, all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from manuals.bulk import insert_sections
from manuals.documents import archive, docx_import, markdown
from manuals.documents.types import (
    MAX_SECTIONS,
    ImportRefused,
    ParsedDocument,
    Progress,
    resolve_placeholders,
)
from manuals.images.pipeline import ImageRejected, store_image
from manuals.models import Image, Manual, Section
from manuals.signals import sections_changed
from manuals.tree import TreeError, create_manual, lock_manual, retry_deadlocks


def read_document(
    path: Path, *, name: str | None = None, local_images: bool = False
) -> ParsedDocument:
    """Parse a .docx, a Markdown file or one of our archives, chosen by content.

    ``local_images``: a Markdown file may pull pictures from its own folder (the command
    line does this; an upload has no folder)."""
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
    *, manual: Manual, parsed: ParsedDocument, user, stored_files: list[str], progress,
    written=None,
) -> dict[str, Image]:  # fmt: skip
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
                before_write=written,
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
    written: Callable[[list[str]], None] | None = None,
    finishing: Callable[[Manual], None] | None = None,
) -> Manual:
    """Write ``parsed`` as a new manual of ``owner`` or under ``target`` (in a manual the
    owner may write). One transaction: on any error nothing stays, not even image files.

    ``written`` hears each file name before it is written: if the process is killed, the
    files whose rows were never committed can be found and removed. ``finishing`` runs
    last inside the transaction: what must commit with the manual (the job's "done")."""
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
                progress=progress, written=written,
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
                parsed.finish(manual, rows, stored, target is None)
            if progress:
                progress("sections", len(sections), len(sections))
            section_ids = None if target is None else [row.pk for row in rows]
            sections_changed.send(sender=Section, manual_id=manual.pk, section_ids=section_ids)
            if finishing:
                finishing(manual)
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
