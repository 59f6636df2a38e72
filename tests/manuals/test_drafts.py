"""Drafts: what a writer typed is kept on the server while the editor is open, for them
alone, and goes away when they save or discard it."""

import pytest
from django.urls import reverse

from manuals.models import Draft, Revision
from tests.conftest import section_titled


def draft_url(section):
    return reverse("manuals:section_draft", args=[section.manual_id, section.pk])


@pytest.fixture
def section(alice_manual):
    return section_titled(alice_manual, "考勤制度")


def test_a_draft_is_kept_and_offered_back_without_a_new_version(client, alice, section):
    client.force_login(alice)
    revisions = Revision.objects.filter(section=section).count()
    response = client.post(
        draft_url(section),
        {"title": "考勤制度（新）", "body": "<p>迟到三次<script>x</script></p>", "version": 1},
    )
    assert response.status_code == 200
    draft = client.get(draft_url(section)).json()["draft"]
    assert draft["title"] == "考勤制度（新）"
    assert draft["body"] == "<p>迟到三次</p>"  # sanitised like a saved body
    assert draft["base_version"] == 1
    assert draft["saved_at"]
    # Kept again: still one draft, no revision, the section unchanged.
    client.post(draft_url(section), {"title": "考勤", "body": "<p>二稿</p>", "version": 1})
    assert Draft.objects.filter(section=section).count() == 1
    assert Revision.objects.filter(section=section).count() == revisions
    section.refresh_from_db()
    assert section.version == 1 and "二稿" not in section.body


def test_discarding_removes_the_draft(client, alice, section):
    client.force_login(alice)
    client.post(draft_url(section), {"title": "考勤", "body": "<p>草稿</p>", "version": 1})
    assert client.delete(draft_url(section)).json() == {"draft": None}
    assert client.get(draft_url(section)).json() == {"draft": None}


def test_saving_the_section_removes_the_draft(client, alice, section):
    client.force_login(alice)
    client.post(draft_url(section), {"title": "考勤", "body": "<p>草稿</p>", "version": 1})
    edit = reverse("manuals:edit_section", args=[section.manual_id, section.pk])
    form = {"title": "考勤", "body": "<p>草稿</p>", "kind": "note", "visibility": "private"}
    response = client.post(edit, {**form, "version": 1}, HTTP_ACCEPT="application/json")
    # The editor saves with fetch: it is told where to go instead of being redirected.
    assert response.json() == {
        "saved": True,
        "url": reverse("manuals:section", args=[section.manual_id, section.pk]),
    }
    assert not Draft.objects.filter(section=section).exists()


def test_a_draft_is_private_to_its_author(client, alice, bob, lena, carol, section):
    section.visibility = "shared"  # even a section the whole team reads
    section.save(update_fields=["visibility"])
    Draft.objects.create(user=alice, section=section, body="<p>秘密草稿</p>", base_version=1)
    for someone in (bob, lena, carol):
        client.force_login(someone)
        assert client.get(draft_url(section)).status_code == 404
        assert client.post(draft_url(section), {"body": "x", "version": 1}).status_code == 404
        assert client.delete(draft_url(section)).status_code == 404
        page = client.get(reverse("manuals:section", args=[section.manual_id, section.pk]))
        assert "秘密草稿" not in page.content.decode()
    assert Draft.objects.get(section=section).body == "<p>秘密草稿</p>"


def test_a_draft_without_a_version_is_refused(client, alice, section):
    client.force_login(alice)
    assert client.post(draft_url(section), {"body": "<p>x</p>"}).status_code == 400


def test_a_draft_is_never_exported_indexed_or_printed(alice, section, capsys):
    import io
    import zipfile

    from django.core.management import call_command

    from manuals.documents.archive import export_archive
    from printing.booklet import BookletOptions, assemble_booklet

    Draft.objects.create(
        user=alice, section=section, title="草稿标题", body="<p>秘密草稿</p>", base_version=1
    )
    with zipfile.ZipFile(io.BytesIO(export_archive(manual=section.manual))) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert "秘密草稿".encode() not in everything and "考勤制度".encode() in everything
    call_command("rebuild_index")
    capsys.readouterr()
    call_command("search", "秘密草稿", "--as", "alice", "--json")
    assert capsys.readouterr().out.strip() == ""
    call_command("search", "考勤制度的内容", "--as", "alice", "--json")
    assert str(section.pk) in capsys.readouterr().out  # the section itself is found
    booklet = assemble_booklet(manual=section.manual, options=BookletOptions(), user=alice)
    html = "".join(chapter.html for chapter in booklet.chapters)
    assert "秘密草稿" not in html and "考勤制度的内容" in html
