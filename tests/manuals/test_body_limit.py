"""A section body has a size limit, with a clear message, on save and in every import.

Before: a 5 MB body saved, was stored again in every revision, and its chapter held the
printing worker for the full 900 s.
"""

import pytest
from django.urls import reverse

from manuals.bulk import NewSection, insert_sections
from manuals.documents.importing import import_document, read_document
from manuals.documents.markdown import parse_markdown
from manuals.documents.types import ImportRefused
from manuals.models import BODY_MAX_CHARS, Manual, Revision, Section
from manuals.tree import SectionContent, TreeError, add_section
from tests.conftest import section_titled

HUGE = "<p>" + "客户反复来电，" * (BODY_MAX_CHARS // 7 + 10) + "</p>"


def test_saving_a_body_over_the_limit_says_so_and_keeps_the_text(client, alice, alice_manual):
    client.force_login(alice)
    section = section_titled(alice_manual, "质检标准")
    revisions = Revision.objects.filter(section=section).count()
    response = client.post(
        reverse("manuals:edit_section", args=[alice_manual.pk, section.pk]),
        {"title": "质检标准", "kind": "rule", "visibility": "private", "body": HUGE,
         "version": section.version},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200 and "正文太长" in page
    assert "客户反复来电" in page  # the editor still holds what was typed
    section.refresh_from_db()
    assert "客户反复来电" not in section.body
    assert Revision.objects.filter(section=section).count() == revisions


def test_tree_writes_refuse_a_body_over_the_limit(alice, alice_manual):
    with pytest.raises(TreeError, match="正文太长"):
        add_section(manual=alice_manual, content=SectionContent(title="巨长", body=HUGE))
    with pytest.raises(TreeError, match="巨长"):
        insert_sections(manual=alice_manual, parent=None, user=alice,
                        sections=[NewSection(depth=1, title="巨长", body=HUGE)])  # fmt: skip
    assert not Section.objects.filter(title="巨长").exists()


def test_an_import_with_a_section_over_the_limit_names_it_and_imports_nothing(alice):
    text = "# 开场白\n\n您好\n\n# 聊天记录全文\n\n" + "客户反复来电，" * (BODY_MAX_CHARS // 7 + 10)
    parsed = parse_markdown(text, name="记录.md", load_image=None)
    manuals = Manual.objects.count()
    with pytest.raises(ImportRefused, match="聊天记录全文"):
        import_document(parsed=parsed, owner=alice)
    assert Manual.objects.count() == manuals


def test_a_body_just_under_the_limit_saves(alice, alice_manual):
    body = "<p>" + "好" * (BODY_MAX_CHARS - 7) + "</p>"
    section = add_section(manual=alice_manual, content=SectionContent(title="长", body=body))
    assert len(Section.objects.get(pk=section.pk).body) == BODY_MAX_CHARS


def test_an_archive_whose_revisions_hold_an_oversized_body_is_refused(alice_manual, tmp_path):
    import hashlib
    import json
    import zipfile

    from manuals.documents.archive import export_archive

    source = tmp_path / "backup.zip"
    source.write_bytes(export_archive(manual=alice_manual))
    with zipfile.ZipFile(source) as package:
        members = {name: package.read(name) for name in package.namelist()}
    revisions = json.loads(members["revisions.json"])
    key, items = next((k, v) for k, v in revisions.items() if v)
    items[0]["body"] = HUGE  # a consistent archive (checksums too), from a hostile source
    members["revisions.json"] = json.dumps(revisions).encode()
    manifest = json.loads(members["manifest.json"])
    manifest["files"]["revisions.json"] = hashlib.sha256(members["revisions.json"]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    members["manifest.sha256"] = hashlib.sha256(members["manifest.json"]).hexdigest().encode()
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(edited, "w", zipfile.ZIP_STORED) as package:  # past the ratio check
        for name, data in members.items():
            package.writestr(name, data)
    with pytest.raises(ImportRefused, match="正文太长"):
        read_document(edited)
