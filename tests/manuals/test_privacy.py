"""Private means private: the audit's findings, each as the attack or the curious colleague
tried it (issue "Private means private")."""

import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from manuals.circulation.copying import copy_into_my_manual
from manuals.circulation.handover import HandoverRefused, hand_over_subtree, transfer_manual
from manuals.documents.archive import export_archive
from manuals.documents.importing import import_document, read_document
from manuals.documents.types import ImportRefused
from manuals.images.pipeline import image_html, store_image
from manuals.models import Image, Manual, Revision, Section
from manuals.outline import render_outline
from manuals.sanitize import referenced_image_ids
from manuals.tree import SectionContent, add_section, create_manual, save_section_content
from printing.models import Edition
from tests.conftest import build_manual, section_titled
from tests.manuals.test_images import picture as picture_bytes

XSS = '"><img src=x onerror=alert(1)>'


def resigned(archive: bytes, edit) -> bytes:
    """The archive after ``edit(files)`` changed its JSON files, checksums made to match
    again: plain SHA-256 is no signature, anyone can do this."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    files = {name: source.read(name) for name in source.namelist()}
    edit(files)
    manifest = json.loads(files["manifest.json"])
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256(files[name]).hexdigest()
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    files["manifest.sha256"] = (hashlib.sha256(files["manifest.json"]).hexdigest() + "\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, data in files.items():
            package.writestr(name, data)
    return out.getvalue()


def _json_edit(name, change):
    def edit(files):
        data = json.loads(files[name])
        change(data)
        files[name] = json.dumps(data, ensure_ascii=False).encode()

    return edit


def test_a_resigned_archive_with_html_in_a_revision_kind_is_refused(alice, alice_manual, tmp_path):
    def poison(revisions):
        for items in revisions.values():
            items[0]["kind"] = XSS

    path = tmp_path / "crafted.zip"
    path.write_bytes(
        resigned(export_archive(manual=alice_manual), _json_edit("revisions.json", poison))
    )
    with pytest.raises(ImportRefused):
        import_document(parsed=read_document(path), owner=alice)
    assert Manual.objects.filter(owner=alice).count() == 1
    assert not Revision.objects.exclude(kind__in=Section.Kind.values).exists()


@pytest.mark.django_db(transaction=True)
def test_the_database_itself_refuses_an_unknown_kind_or_visibility(alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    for field, value in (("kind", XSS), ("visibility", "everyone")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Section.objects.filter(pk=section.pk).update(**{field: value})
        with pytest.raises(IntegrityError), transaction.atomic():
            Revision.objects.filter(section=section).update(**{field: value})


def test_the_outline_escapes_every_attribute(alice_manual):
    sections = alice_manual.outline()
    sections[0].kind = XSS  # as if a row had slipped past every check
    html = render_outline(alice_manual, sections, current_id=None, editable=True)
    assert "<img" not in html and "onerror=alert(1)&gt;" in html


def test_history_never_shows_what_was_private_when_saved(client, alice, bob, lena, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    section = save_section_content(
        section=section, expected_version=section.version, user=alice,
        content=SectionContent(title="考勤制度", body="<p>我的手机 13800138000</p>"),
    )  # fmt: skip
    save_section_content(
        section=section, expected_version=section.version, user=alice,
        content=SectionContent(title="考勤制度", body="<p>迟到三次扣绩效</p>",
                               visibility=Section.Visibility.SHARED),
    )  # fmt: skip
    url = reverse("manuals:history", args=[alice_manual.pk, section.pk])
    for reader in (bob, lena):
        client.force_login(reader)
        page = client.get(url).content.decode()
        assert "迟到三次扣绩效" in page
        assert "13800138000" not in page
        for version in (1, 2):  # asking for an old version by number gets nothing either
            page = client.get(url, {"a": version, "b": 3}).content.decode()
            assert "13800138000" not in page
    client.force_login(alice)
    assert "13800138000" in client.get(url, {"a": 2, "b": 3}).content.decode()


def test_restoring_an_old_version_keeps_the_current_visibility(client, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")  # v1 is 仅自己
    section = save_section_content(
        section=section, expected_version=section.version, user=alice,
        content=SectionContent(title="考勤制度", body="<p>新规</p>",
                               visibility=Section.Visibility.SHARED, kind=Section.Kind.RULE),
    )  # fmt: skip
    client.force_login(alice)
    history = reverse("manuals:history", args=[alice_manual.pk, section.pk])
    page = client.get(history, {"a": 1, "b": 2}).content.decode()
    assert "仅自己" in page and "团队共享" in page  # both shown in the comparison
    restore = reverse("manuals:restore_revision", args=[alice_manual.pk, section.pk, 1])
    client.post(restore, {"expected_version": section.version})
    section.refresh_from_db()
    assert section.body == "<p>考勤制度的内容</p>"
    assert section.visibility == Section.Visibility.SHARED and section.kind == Section.Kind.RULE
    client.post(restore, {"expected_version": section.version, "with_visibility": "1"})
    section.refresh_from_db()
    assert section.visibility == Section.Visibility.PRIVATE


def test_an_archive_imported_under_a_section_changes_nothing_else(lena, tmp_path):
    """A lead imports a template's archive under a section of her own manual: the manual
    must not become a template (its private sections would be the team's to read)."""
    mine = build_manual(lena, "林娜的工作手册", [("管理制度", []), ("项目资料", [])])
    template = create_manual(owner=lena, title="团队模板", is_template=True)
    add_section(manual=template, content=SectionContent(title="模板章节", body="<p>x</p>"))
    path = tmp_path / "template.zip"
    path.write_bytes(export_archive(manual=template))
    root_before = Section.objects.get(pk=mine.root_id)
    target = section_titled(mine, "项目资料")
    import_document(parsed=read_document(path), owner=lena, target=target)
    mine.refresh_from_db()
    assert not mine.is_template
    assert mine.title == "林娜的工作手册"
    root_after = Section.objects.get(pk=mine.root_id)
    assert (root_after.body, root_after.version) == (root_before.body, root_before.version)
    assert not Revision.objects.filter(section_id=mine.root_id).exists()
    assert section_titled(mine, "模板章节").parent_id == target.pk
    # and the reverse: a normal manual's archive under a template leaves it a template
    normal = tmp_path / "normal.zip"
    normal.write_bytes(export_archive(manual=mine))
    import_document(
        parsed=read_document(normal), owner=lena, target=section_titled(template, "模板章节")
    )
    template.refresh_from_db()
    assert template.is_template


def test_an_archive_origin_outside_the_team_is_dropped(alice, carol, alice_manual, tmp_path):
    other = create_manual(owner=carol, title="别组手册")
    secret = add_section(manual=other, content=SectionContent(title="别组机密", body=""))

    def point_into_other_team(manifest):
        manifest["sections"][0]["origin"] = secret.pk
        manifest["sections"][0]["origin_title"] = "别组机密"  # a guess the oracle confirmed

    path = tmp_path / "oracle.zip"
    path.write_bytes(
        resigned(
            export_archive(manual=alice_manual), _json_edit("manifest.json", point_into_other_team)
        )
    )
    manual = import_document(parsed=read_document(path), owner=alice)
    assert not Section.objects.filter(manual=manual, origin_id=secret.pk).exists()


def test_a_colleagues_private_picture_does_not_travel_through_a_handover(
    client, alice, bob, alice_manual, bob_manual
):
    private = section_titled(alice_manual, "考勤制度")  # 仅自己
    picture = store_image(manual=alice_manual, data=picture_bytes(), original_name="身份证.jpg")
    save_section_content(
        section=private, expected_version=private.version, user=alice,
        content=SectionContent(title="考勤制度", body=image_html(picture)),
    )  # fmt: skip
    url = reverse("manuals:image", args=[picture.pk])
    client.force_login(bob)
    assert client.get(url).status_code == 404
    # Bob names alice's picture in his own section, shares it and hands it to her.
    bait = add_section(
        manual=bob_manual, user=bob,
        content=SectionContent(title="交接给王丽", body=f'<p>看图</p><img src="{url}" '
                               f'data-image-id="{picture.pk}">', visibility="shared"),
    )  # fmt: skip
    assert f"/images/{picture.pk}/" not in Section.objects.get(pk=bait.pk).body
    hand_over_subtree(section=bait, to_manual=alice_manual, mode="copy", note="", user=bob)
    landed = Section.objects.get(manual=alice_manual, title="交接给王丽")
    assert f"/images/{picture.pk}/" not in landed.body
    assert client.get(url).status_code == 404
    # Mentioning the address in a shared section's text shows no picture either.
    shared = section_titled(alice_manual, "质检标准")
    save_section_content(
        section=shared, expected_version=shared.version, user=alice,
        content=SectionContent(title="质检标准", body=f"<p>截图在 {url} 里</p>",
                               visibility="shared"),
    )  # fmt: skip
    assert client.get(url).status_code == 404
    client.force_login(alice)
    assert client.get(url).status_code == 200


def test_a_handover_copies_the_givers_pictures_into_the_receivers_library(
    client, alice, bob, alice_manual, bob_manual
):
    picture = store_image(manual=bob_manual, data=picture_bytes(), original_name="流程图.png")
    given = add_section(
        manual=bob_manual, user=bob,
        content=SectionContent(title="退货流程", body=image_html(picture), visibility="shared"),
    )  # fmt: skip
    hand_over_subtree(section=given, to_manual=alice_manual, mode="copy", note="", user=bob)
    landed = Section.objects.get(manual=alice_manual, title="退货流程")
    (copy_id,) = referenced_image_ids([landed.body])
    assert copy_id != picture.pk
    assert Image.objects.get(pk=copy_id).manual_id == alice_manual.pk


def test_an_image_address_must_be_our_own_library(alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    for src in ("/\\evil.example/pixel.gif", "//evil.example/p.gif", "/images/../x",
                "https://evil.example/p.gif", "data:image/png;base64,AAAA"):  # fmt: skip
        saved = save_section_content(
            section=section, expected_version=section.version, user=alice,
            content=SectionContent(title="考勤制度", body=f'<p>x</p><img src="{src}">'),
        )  # fmt: skip
        assert "evil" not in saved.body and "src=" not in saved.body, src
        section = saved


def test_html_pages_allow_no_inline_script(client, alice, alice_manual):
    client.force_login(alice)
    section = section_titled(alice_manual, "考勤制度")
    for url in (
        reverse("manuals:manual", args=[alice_manual.pk]),
        reverse("manuals:edit_section", args=[alice_manual.pk, section.pk]),
        reverse("login"),
    ):
        policy = client.get(url)["Content-Security-Policy"]
        script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "'self'" in script_src and "object-src 'none'" in policy


def test_no_template_carries_an_inline_script_or_handler():
    from pathlib import Path

    found = []
    for path in Path(__file__).resolve().parents[2].joinpath("templates").rglob("*.html"):
        text = path.read_text()
        found += [
            f"{path.name}: <script> without src"
            for _ in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        ]
        found += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+=\"", text)]
    assert found == []


def test_a_copys_origin_note_names_no_private_ancestor(bob, alice, alice_manual, bob_manual):
    case = section_titled(alice_manual, "2024-03 退款纠纷")  # under 工作复盘, both 仅自己
    Section.objects.filter(pk=case.pk).update(visibility=Section.Visibility.SHARED)
    (copied, *_rest) = copy_into_my_manual(
        source=Section.objects.get(pk=case.pk), target_manual=bob_manual, parent=None, user=bob
    )
    assert "2024-03 退款纠纷" in copied.origin_note
    assert "工作复盘" not in copied.origin_note


def test_adding_a_section_never_redirects_to_another_site(client, alice, alice_manual):
    client.force_login(alice)
    url = reverse("manuals:add_section", args=[alice_manual.pk])
    for target in ("https://evil.example/phish", "//evil.example/", "/\\\\evil.example/"):
        response = client.post(url, {"title": "新一节", "next": target})
        assert response.status_code == 302 and "evil" not in response["Location"], target
    response = client.post(url, {"title": "再一节", "next": "/cases/"})
    assert response["Location"] == "/cases/"


def test_opening_pages_writes_nothing(client, lena, alice, alice_manual):
    client.force_login(lena)
    assert client.get(reverse("manuals:templates")).status_code == 200
    assert not Manual.objects.filter(is_template=True).exists()  # a GET creates no template
    stale = Edition.objects.create(
        manual=alice_manual, requested_by=alice, status=Edition.Status.RENDERING,
        started_at=timezone.now() - timedelta(days=1),
    )  # fmt: skip
    client.force_login(alice)
    client.get(reverse("printing:status", args=[stale.pk]))
    client.get(reverse("printing:edition", args=[stale.pk]))
    stale.refresh_from_db()
    assert stale.status == Edition.Status.RENDERING  # only the worker or a new print decides


@pytest.mark.parametrize(
    "tag",
    [
        "<img src='/images/{id}/'>",
        '<IMG SRC="/images/{id}/">',
        "<img src=/images/{id}/>",
        '<img src="&#47;images/{id}/">',
    ],  # fmt: skip
)
def test_a_colleagues_picture_cannot_be_named_in_any_spelling(tag, alice, bob, bob_manual):
    theirs = store_image(manual=bob_manual, data=picture_bytes(), original_name="b.jpg")
    mine = build_manual(alice, "我的", [("章节", [])])
    section = section_titled(mine, "章节")
    saved = save_section_content(
        section=section, expected_version=section.version, user=alice,
        content=SectionContent(title="章节", body="<p>x</p>" + tag.format(id=theirs.pk)),
    )  # fmt: skip
    assert f"/images/{theirs.pk}/" not in saved.body


def test_the_lead_cannot_take_or_hand_on_a_private_section(lena, bob, alice_manual, bob_manual):
    private = section_titled(alice_manual, "考勤制度")
    with pytest.raises(HandoverRefused):
        hand_over_subtree(section=private, to_manual=bob_manual, mode="copy", user=lena)
    lead_manual = build_manual(lena, "林娜的手册", [("管理制度", [])])
    shared = section_titled(alice_manual, "管理制度")
    Section.objects.filter(pk=shared.pk).update(visibility="shared")
    with pytest.raises(HandoverRefused):  # not to herself either
        hand_over_subtree(section=shared, to_manual=lead_manual, mode="copy", user=lena)
    # copying what she may read to a colleague takes only that part
    hand_over_subtree(section=shared, to_manual=bob_manual, mode="copy", user=lena)
    landed = Section.objects.filter(manual=bob_manual, title="管理制度").exclude(
        pk__in=Section.objects.filter(manual=bob_manual, origin__isnull=True)
    )
    assert landed.exists()
    assert not Section.objects.filter(
        manual=bob_manual, title__in=["考勤制度", "质检标准"]
    ).exists()
    with pytest.raises(HandoverRefused):  # a move would take the private children along
        hand_over_subtree(section=shared, to_manual=bob_manual, mode="move", user=lena)
    with pytest.raises(HandoverRefused):
        transfer_manual(manual=alice_manual, successor=lena, user=lena)


def test_a_moved_section_takes_only_versions_the_receiver_could_read(
    alice, bob, alice_manual, bob_manual
):
    section = section_titled(alice_manual, "考勤制度")
    section = save_section_content(
        section=section, expected_version=section.version, user=alice,
        content=SectionContent(title="考勤制度", body="<p>手机 13800138000</p>"),
    )  # fmt: skip
    save_section_content(
        section=section, expected_version=section.version, user=alice,
        content=SectionContent(title="考勤制度", body="<p>公开的规则</p>", visibility="shared"),
    )  # fmt: skip
    hand_over_subtree(section=section, to_manual=bob_manual, mode="move", user=alice)
    moved = Section.objects.get(manual=bob_manual, title="考勤制度")
    bodies = list(Revision.objects.filter(section=moved).values_list("body", flat=True))
    assert bodies and not any("13800138000" in b for b in bodies)


def test_the_activity_log_hides_titles_from_a_lead_who_may_not_read_them(
    client, alice, bob, lena, alice_manual, bob_manual
):
    private = section_titled(alice_manual, "考勤制度")
    hand_over_subtree(section=private, to_manual=bob_manual, mode="copy", user=alice)
    client.force_login(lena)
    page = client.get(reverse("manuals:activity")).content.decode()
    assert "考勤制度" not in page
    client.force_login(bob)
    assert "考勤制度" in client.get(reverse("manuals:activity")).content.decode()
