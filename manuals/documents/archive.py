"""Lossless manual archives: a zip that imports back into an identical manual.

Layout (format version 1)::

    manifest.json    format, version, the manual, the tree (sections in outline order with
                     their parents, kinds, visibility, origins, timestamps, trash state),
                     the image list and a SHA-256 for every other file
    bodies.json      {section key: body HTML}
    revisions.json   {section key: [revision, ...]}
    images/<id>.<ext>
    manifest.sha256  SHA-256 of manifest.json, so hand edits are caught

Section bodies keep their ``/images/<id>/`` references; import stores each picture again
through the image pipeline and points the bodies at the new ids.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from manuals.bulk import NewSection
from manuals.documents.types import (
    ImportRefused,
    ParsedDocument,
    PendingImage,
    resolve_placeholders,
)
from manuals.models import Image, Manual, Member, Revision, Section
from manuals.tree import TreeError, check_body

FORMAT = "lanbitou-manual-archive"
VERSION = 1
IMAGE_REF = re.compile(r'(/images/|data-image-id=")(\d+)')


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _section_fields(section: Section, usernames: dict[int, str], origins: set[int]) -> dict:
    # An origin in another manual goes out only while its owner may still read it (it may
    # have become private since the copy): its id and title would say what is there.
    origin = section.origin_id if section.origin_id in origins else None
    return {
        "key": f"s{section.pk}",
        "parent": f"s{section.parent_id}" if section.level > 1 else None,
        "title": section.title,
        "kind": section.kind,
        "visibility": section.visibility,
        "version": section.version,
        "created_at": _when(section.created_at),
        "updated_at": _when(section.updated_at),
        "updated_by": usernames.get(section.updated_by_id),
        "trashed_at": _when(section.trashed_at),
        "trashed_root": section.trashed_root,
        "origin": origin,
        "origin_title": section.origin.title if origin else None,
        "origin_note": section.origin_note,
        "copied_at": _when(section.copied_at),
    }


def export_archive(*, manual: Manual) -> bytes:
    """Everything in the manual, trash and revisions included."""
    usernames = dict(get_user_model().objects.values_list("pk", "username"))
    sections = list(
        Section.objects.filter(manual=manual).select_related("origin").in_outline_order()
    )
    root, chapters = sections[0], sections[1:]
    origins = set(
        Section.objects.readable_by(manual.owner)
        .filter(pk__in={s.origin_id for s in sections if s.origin_id})
        .values_list("pk", flat=True)
    )
    revisions: dict[str, list] = {}
    for revision in Revision.objects.filter(section__manual=manual).order_by("section", "version"):
        revisions.setdefault(f"s{revision.section_id}", []).append(
            {
                "version": revision.version,
                "title": revision.title,
                "kind": revision.kind,
                "visibility": revision.visibility,
                "body": revision.body,
                "author": usernames.get(revision.author_id),
                "note": revision.note,
                "created_at": _when(revision.created_at),
            }
        )
    files: dict[str, bytes] = {
        "bodies.json": _json({f"s{s.pk}": s.body for s in sections}),
        "revisions.json": _json(revisions),
    }
    images = []
    for image in Image.objects.filter(manual=manual).order_by("pk"):
        path = f"images/{image.pk}{Path(image.file.name).suffix}"
        with image.file.open("rb") as handle:
            files[path] = handle.read()
        images.append(
            {
                "key": f"i{image.pk}",
                "file": path,
                "purpose": image.purpose,
                "caption": image.caption,
                "original_name": image.original_name,
                "created_at": _when(image.created_at),
                "uploaded_by": usernames.get(image.uploaded_by_id),
            }
        )
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _when(timezone.now()),
        "manual": {
            "title": manual.title,
            "is_template": manual.is_template,
            "created_at": _when(manual.created_at),
            "updated_at": _when(manual.updated_at),
            "owner": usernames.get(manual.owner_id),
        },
        "root": _section_fields(root, usernames, origins),
        "sections": [_section_fields(s, usernames, origins) for s in chapters],
        "images": images,
        "files": {path: _sha(data) for path, data in files.items()},
    }
    manifest_bytes = _json(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", manifest_bytes)
        package.writestr("manifest.sha256", _sha(manifest_bytes) + "\n")
        for path, data in files.items():
            package.writestr(path, data)
    return buffer.getvalue()


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode()


def is_archive(path: Path) -> bool:
    with zipfile.ZipFile(path) as package:
        return "manifest.json" in package.namelist()


def _edited(name: str) -> ImportRefused:
    return ImportRefused(
        _(
            "这个归档被改动过（%(name)s 与导出时不一致），为了不导入残缺或被篡改的内容，"
            "已拒绝导入。请使用烂笔头导出的原始归档文件。"
        )
        % {"name": name}
    )


def _load(package: zipfile.ZipFile) -> tuple[dict, dict[str, bytes]]:
    names = set(package.namelist())
    manifest_bytes = package.read("manifest.json")
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError:
        raise _edited("manifest.json") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ImportRefused(_("这个压缩包不是烂笔头的手册归档。"))
    version = manifest.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ImportRefused(
            _(
                "这个归档来自更新版本的烂笔头（格式版本 %(found)s），当前只能导入格式版本 "
                "%(supported)d 及以前的归档。请先升级烂笔头再导入。"
            )
            % {"found": version, "supported": VERSION}
        )
    if "manifest.sha256" not in names:
        raise _edited("manifest.sha256")
    if package.read("manifest.sha256").decode(errors="replace").strip() != _sha(manifest_bytes):
        raise _edited("manifest.json")
    files: dict[str, bytes] = {}
    for path, digest in manifest.get("files", {}).items():
        if path not in names:
            raise _edited(path)
        data = package.read(path)
        if _sha(data) != digest:
            raise _edited(path)
        files[path] = data
    return manifest, files


def read_archive(path: Path) -> ParsedDocument:
    with zipfile.ZipFile(path) as package:
        manifest, files = _load(package)
    try:
        return _parse(manifest, files)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ImportRefused(
            _("归档内容不完整或格式不对（%(error)s），已拒绝导入。") % {"error": error}
        ) from error


def _time(value) -> datetime | None:
    return parse_datetime(value) if value else None


def _parse(manifest: dict, files: dict[str, bytes]) -> ParsedDocument:
    bodies = json.loads(files["bodies.json"])
    revisions = json.loads(files["revisions.json"])
    # Revisions are written as they are, not through the tree: hold them to the same limit.
    try:
        for items in revisions.values():
            for item in items:
                check_body(item["body"], title=item["title"])
    except TreeError as error:
        raise ImportRefused(str(error)) from error
    kinds, visibilities = set(Section.Kind.values), set(Section.Visibility.values)
    parsed = ParsedDocument(source="archive", title=manifest["manual"]["title"], sections=[])
    open_keys: list[str] = []
    keys: list[str] = []
    for entry in manifest["sections"]:
        parent = entry["parent"]
        while open_keys and open_keys[-1] != parent:
            open_keys.pop()
        if parent is not None and not open_keys:
            raise ImportRefused(_("归档里的章节结构不一致（“%(t)s”的上级不在它前面）。")
                                % {"t": entry["title"]})  # fmt: skip
        if entry["kind"] not in kinds or entry["visibility"] not in visibilities:
            raise ValueError(f"{entry['title']}: kind/visibility")
        open_keys.append(entry["key"])
        keys.append(entry["key"])
        parsed.sections.append(
            NewSection(
                depth=len(open_keys),
                title=entry["title"],
                body=_mark_images(bodies.get(entry["key"], "")),
                kind=entry["kind"],
                visibility=entry["visibility"],
                version=int(entry["version"]),
                created_at=_time(entry["created_at"]),
                updated_at=_time(entry["updated_at"]),
                trashed_at=_time(entry["trashed_at"]),
                trashed_root=bool(entry["trashed_root"]),
                origin_note=entry.get("origin_note") or "",
                copied_at=_time(entry.get("copied_at")),
            )
        )
    for items in revisions.values():
        for item in items:
            if item["kind"] not in kinds or item["visibility"] not in visibilities:
                raise ValueError(f"revision of {item['title']}: kind/visibility")
            int(item["version"])
    unknown = set(revisions) - set(keys) - {manifest["root"]["key"]}
    if unknown:
        raise ValueError(f"revisions of unknown sections {sorted(unknown)[:3]}")
    for image in manifest["images"]:
        parsed.images[image["key"]] = PendingImage(
            key=image["key"],
            name=image["original_name"] or Path(image["file"]).name,
            data=files[image["file"]],
            caption=image["caption"],
            purpose=image["purpose"],
        )
    parsed.finish = lambda manual, rows, stored, whole_manual: _finish(
        manifest, keys, bodies, revisions, manual, rows, stored, parsed, whole_manual
    )
    return parsed


def _mark_images(body: str) -> str:
    """Turn /images/<old id>/ references into import placeholders (see importing)."""
    return IMAGE_REF.sub(lambda m: f"{m.group(1)}import:i{m.group(2)}", body)


def _finish(manifest, keys, bodies, revisions, manual, rows, stored, parsed, whole_manual):
    """Revisions, authors, origins and picture details of the imported sections. Only an
    archive imported as a manual of its own restores the manual's flags (template or not)
    and its root; imported under a section it adds sections there and nothing else."""
    names = {key: image.name for key, image in parsed.images.items()}
    team_users = dict(
        Member.objects.filter(team_id=manual.team_id).values_list("user__username", "user_id")
    )

    def body(html: str) -> str:
        return resolve_placeholders(_mark_images(html), stored, names)

    new_ids = dict(zip(keys, (row.pk for row in rows), strict=True))
    if whole_manual:
        new_ids[manifest["root"]["key"]] = manual.root_id
        _restore_manual(manifest, manual, parsed, team_users, body, bodies)
    old_ids = {int(key[1:]): new for key, new in new_ids.items()}
    # An origin outside this archive is kept only if it is a section the importer may
    # read in the same team (never a way to learn a title of another team's manual).
    readable_origins = Section.objects.readable_by(manual.owner).filter(
        manual__team_id=manual.team_id
    )
    # Authors and origins are kept where they still mean the same thing here.
    by_author: dict[int | None, list[int]] = {}
    for entry in manifest["sections"]:
        new_id = new_ids[entry["key"]]
        by_author.setdefault(team_users.get(entry["updated_by"]), []).append(new_id)
        origin = entry.get("origin")
        if origin is None:
            continue
        origin_id = old_ids.get(origin)
        if origin_id is None and isinstance(origin, int):
            same = readable_origins.filter(pk=origin, title=entry.get("origin_title"))
            origin_id = origin if same.exists() else None
        Section.objects.filter(pk=new_id).update(origin_id=origin_id)
    for author, ids in by_author.items():
        Section.objects.filter(pk__in=ids).update(updated_by_id=author)
    Revision.objects.bulk_create(
        [
            Revision(
                section_id=new_ids[key],
                version=int(item["version"]),
                title=item["title"],
                kind=item["kind"],
                visibility=item["visibility"],
                body=body(item["body"]),
                author_id=team_users.get(item["author"]),
                note=item["note"],
                created_at=_time(item["created_at"]),
            )
            for key, items in revisions.items()
            if key in new_ids
            for item in items
        ],
        batch_size=500,
    )
    _restore_image_details(manifest, stored, team_users)


def _restore_manual(manifest, manual, parsed, team_users, body, bodies) -> None:
    info, root = manifest["manual"], manifest["root"]
    owner_is_lead = Member.objects.filter(user_id=manual.owner_id, role="lead").exists()
    if info.get("is_template") and not owner_is_lead:
        parsed.warn(_("原手册是团队模板；只有主管能拥有模板，已作为普通手册导入。"))
    Manual.objects.filter(pk=manual.pk).update(
        is_template=bool(info.get("is_template")) and owner_is_lead,
        created_at=_time(info["created_at"]) or manual.created_at,
        updated_at=_time(info["updated_at"]) or manual.updated_at,
    )
    Section.objects.filter(pk=manual.root_id).update(
        body=body(bodies.get(root["key"], "")),
        version=int(root["version"]),
        created_at=_time(root["created_at"]),
        updated_at=_time(root["updated_at"]),
        updated_by_id=team_users.get(root["updated_by"]),
    )


def _restore_image_details(manifest, stored, team_users) -> None:
    for image in manifest["images"]:
        stored_image = stored.get(image["key"])
        if stored_image is not None:
            Image.objects.filter(pk=stored_image.pk).update(
                created_at=_time(image["created_at"]) or stored_image.created_at,
                uploaded_by_id=team_users.get(image["uploaded_by"]),
                original_name=image["original_name"],
            )
