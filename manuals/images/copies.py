"""Pictures travelling with copied sections (template clones, circulation, handover).

A body points at a library picture as ``<img src="/images/<id>/" data-image-id="<id>">``
and the picture belongs to one manual's library (its permission follows that manual).
A copy in another manual therefore gets its own Image rows and files, and its body is
rewritten to point at them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.urls import reverse

from manuals.models import Image, Manual
from manuals.sanitize import IMAGE_ID_ATTR, IMAGE_SRC_ATTR, IMG_TAG, referenced_image_ids


def rewrite_image_refs(body: str, mapping: dict[int, int]) -> str:
    """Point every library picture in ``body`` at its copy; others stay untouched."""
    if not mapping or not body or "<img" not in body:
        return body

    def one_tag(match: re.Match) -> str:
        tag = match.group(0)

        def new_id(m: re.Match) -> str:
            old = int(m.group(1))
            return f'data-image-id="{mapping.get(old, old)}"'

        def new_src(m: re.Match) -> str:
            old = int(m.group(1))
            if old not in mapping:
                return m.group(0)
            url = reverse("manuals:image", args=[mapping[old]])
            return f'src="{url}{m.group(2) or ""}"'

        return IMAGE_SRC_ATTR.sub(new_src, IMAGE_ID_ATTR.sub(new_id, tag))

    return IMG_TAG.sub(one_tag, body)


def copy_images(
    *, bodies: Iterable[str], source_manual_ids: Iterable[int], target: Manual, user=None
) -> tuple[dict[int, int], list[str]]:
    """Duplicate the pictures ``bodies`` use into ``target``'s library.

    Only pictures of ``source_manual_ids`` are copied (a body cannot smuggle in someone
    else's picture by naming its id). A picture already in the target library (same bytes,
    same purpose) is reused. Returns ({old id: new id}, names of the files written) so that
    a caller whose transaction fails can delete the files again.
    """
    wanted = referenced_image_ids(bodies)
    if not wanted:
        return {}, []
    sources = list(Image.objects.filter(pk__in=wanted, manual_id__in=list(source_manual_ids)))
    if not sources:
        return {}, []
    mapping: dict[int, int] = {}
    existing = {
        (img.sha256, img.purpose): img.pk
        for img in Image.objects.filter(
            manual=target, sha256__in=[s.sha256 for s in sources if s.sha256]
        )
    }
    written: list[str] = []
    new_rows: list[tuple[int, Image]] = []
    pending: dict[tuple[str, str], Image] = {}  # same bytes twice in one copy: one file
    for source in sources:
        if source.manual_id == target.pk:
            mapping[source.pk] = source.pk
            continue
        reuse = existing.get((source.sha256, source.purpose)) if source.sha256 else None
        if reuse is not None:
            mapping[source.pk] = reuse
            continue
        if source.sha256 and (source.sha256, source.purpose) in pending:
            new_rows.append((source.pk, pending[(source.sha256, source.purpose)]))
            continue
        copy = Image(
            manual=target,
            purpose=source.purpose,
            caption=source.caption,
            original_name=source.original_name,
            width=source.width,
            height=source.height,
            size_bytes=source.size_bytes,
            sha256=source.sha256,
            uploaded_by=user,
        )
        stem = uuid.uuid4().hex
        for field in ("file", "thumbnail"):
            original = getattr(source, field)
            if not original or not original.storage.exists(original.name):
                continue
            with original.storage.open(original.name, "rb") as handle:
                data = handle.read()
            suffix = PurePosixPath(original.name).suffix
            name = f"{stem}{'-thumb' if field == 'thumbnail' else ''}{suffix}"
            getattr(copy, field).save(name, ContentFile(data), save=False)
            written.append(getattr(copy, field).name)
        if not copy.file:
            continue  # the source file is gone: the copy keeps the old reference
        new_rows.append((source.pk, copy))
        if source.sha256:
            pending[(source.sha256, source.purpose)] = copy
    Image.objects.bulk_create(list({id(row): row for _old, row in new_rows}.values()))
    for old, row in new_rows:
        mapping[old] = row.pk
    return mapping, written


def delete_files(names: Iterable[str]) -> None:
    """Remove files written for a copy whose transaction rolled back."""
    storage = Image._meta.get_field("file").storage
    for name in names:
        storage.delete(name)
