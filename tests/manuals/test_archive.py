import io
import json
import zipfile
from hashlib import sha256 as _sha256

import pytest
from django.utils import timezone

from manuals.documents.archive import export_archive
from manuals.documents.importing import import_document, read_document
from manuals.documents.types import ImportRefused
from manuals.images.pipeline import store_image
from manuals.integrity import check_trees
from manuals.models import Image, Revision, Section
from manuals.tree import SectionContent, save_section_content, trash_section
from tests.conftest import section_titled
from tests.manuals.documents import png_bytes


def snapshot(manual) -> dict:
    """Everything an archive must carry, with database ids replaced by positions."""
    sections = list(Section.objects.filter(manual=manual).order_by("lft"))
    position = {s.pk: index for index, s in enumerate(sections)}
    images = {img.pk: index for index, img in enumerate(Image.objects.filter(manual=manual))}

    def body(html: str) -> str:
        for pk, index in images.items():
            html = html.replace(f"/images/{pk}/", f"/images/#{index}/")
            html = html.replace(f'data-image-id="{pk}"', f'data-image-id="#{index}"')
        return html

    return {
        "title": manual.title,
        "sections": [
            (
                s.level,
                position.get(s.parent_id),
                s.title,
                s.kind,
                s.visibility,
                s.version,
                s.created_at,
                s.updated_at,
                s.trashed_at,
                s.trashed_root,
                s.origin_note,
                s.copied_at,
                body(s.body),
                s.updated_by_id,
                position.get(s.origin_id, s.origin_id),
            )
            for s in sections
        ],  # fmt: skip
        "revisions": sorted(
            (
                position[r.section_id],
                r.version,
                r.title,
                r.kind,
                r.visibility,
                body(r.body),
                r.author_id,
                r.note,
                r.created_at,
            )
            for r in Revision.objects.filter(section__manual=manual)
        ),  # fmt: skip
        "images": [
            (img.caption, img.original_name, img.purpose, img.width, img.height, img.created_at)
            for img in Image.objects.filter(manual=manual).order_by("pk")
        ],
    }


@pytest.fixture
def rich_manual(alice, alice_manual):
    image = store_image(manual=alice_manual, data=png_bytes(), original_name="流程.png",
                        user=alice, caption="流程图")  # fmt: skip
    section = section_titled(alice_manual, "客户情绪")
    save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(
            title="客户情绪",
            body=f'<p>很生气</p><figure class="layout-full"><img src="/images/{image.pk}/" '
            f'data-image-id="{image.pk}" alt="流程图" width="120" height="80"></figure>',
            kind=Section.Kind.RETROSPECTIVE,
            visibility=Section.Visibility.SHARED,
        ),
        user=alice,
        note="补充图片",
    )
    trash_section(section=section_titled(alice_manual, "学习工具"), user=alice)
    copied = section_titled(alice_manual, "质检标准")
    Section.objects.filter(pk=copied.pk).update(
        origin=section_titled(alice_manual, "考勤制度"),
        origin_note="抄自考勤制度",
        copied_at=timezone.now(),
    )
    return alice_manual


def sha256(data: bytes) -> str:
    return _sha256(data).hexdigest()


def archive_file(tmp_path, manual, name="backup.zip"):
    path = tmp_path / name
    path.write_bytes(export_archive(manual=manual))
    return path


def test_an_archive_imports_back_into_an_identical_manual(alice, rich_manual, tmp_path):
    path = archive_file(tmp_path, rich_manual)
    restored = import_document(parsed=read_document(path), owner=alice)
    assert restored.pk != rich_manual.pk
    assert snapshot(restored) == snapshot(rich_manual)
    assert check_trees() == []
    restored_trash = Section.objects.get(manual=restored, trashed_root=True)
    assert restored_trash.title == "学习工具"
    copy = section_titled(restored, "质检标准")
    assert copy.origin == section_titled(restored, "考勤制度")


def wrote(path, changes: dict):
    """Rewrite an archive with some members replaced."""
    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    members.update(changes)
    edited = path.with_name("edited.zip")
    with zipfile.ZipFile(edited, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    return edited


def test_an_archive_edited_by_hand_is_refused_and_nothing_is_imported(alice, rich_manual, tmp_path):
    path = archive_file(tmp_path, rich_manual)
    with zipfile.ZipFile(path) as package:
        bodies = json.loads(package.read("bodies.json"))
        manifest = json.loads(package.read("manifest.json"))
    first = next(iter(bodies))
    bodies[first] = "<p>被人改过</p>"
    sections = Section.objects.count()
    with pytest.raises(ImportRefused, match=r"改动过（bodies.json"):
        read_document(wrote(path, {"bodies.json": json.dumps(bodies).encode()}))
    manifest["manual"]["title"] = "改了标题"
    with pytest.raises(ImportRefused, match=r"改动过（manifest.json"):
        read_document(wrote(path, {"manifest.json": json.dumps(manifest).encode()}))
    assert Section.objects.count() == sections


def test_an_archive_from_a_newer_version_is_explained(rich_manual, tmp_path):
    path = archive_file(tmp_path, rich_manual)
    with zipfile.ZipFile(path) as package:
        manifest = json.loads(package.read("manifest.json"))
    manifest["version"] = 7
    data = json.dumps(manifest).encode()
    edited = wrote(path, {"manifest.json": data, "manifest.sha256": sha256(data).encode()})
    with pytest.raises(ImportRefused, match="更新版本.*格式版本 7"):
        read_document(edited)


def test_a_template_archive_imported_by_an_agent_becomes_an_ordinary_manual(
    alice, lena, rich_manual, tmp_path
):
    rich_manual.is_template = True
    rich_manual.save(update_fields=["is_template"])
    parsed = read_document(archive_file(tmp_path, rich_manual))
    as_agent = import_document(parsed=parsed, owner=alice)
    assert not as_agent.is_template
    assert any("团队模板" in w for w in parsed.warnings)
    as_lead = import_document(parsed=read_document(archive_file(tmp_path, rich_manual)), owner=lena)
    assert as_lead.is_template


def test_authors_from_another_team_are_not_carried_over(carol, rich_manual, tmp_path):
    restored = import_document(parsed=read_document(archive_file(tmp_path, rich_manual)),
                               owner=carol)  # fmt: skip
    assert restored.team == carol.member.team
    revisions = Revision.objects.filter(section__manual=restored)
    authors = set(revisions.values_list("author_id", flat=True))
    assert authors <= {None}


def test_a_manifest_with_a_broken_tree_is_refused(rich_manual, tmp_path):
    path = archive_file(tmp_path, rich_manual)
    with zipfile.ZipFile(path) as package:
        manifest = json.loads(package.read("manifest.json"))
    manifest["sections"][3]["parent"] = "s999999"
    data = json.dumps(manifest).encode()
    edited = wrote(path, {"manifest.json": data, "manifest.sha256": sha256(data).encode()})
    with pytest.raises(ImportRefused, match="结构不一致"):
        read_document(edited)


def test_a_random_zip_with_a_manifest_is_not_taken_for_an_archive(tmp_path):
    path = tmp_path / "other.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("manifest.json", '{"name": "something else"}')
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ImportRefused, match="不是烂笔头的手册归档"):
        read_document(path)
