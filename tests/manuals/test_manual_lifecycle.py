"""A manual is born in one piece (blank, or a blank template) and can be deleted for good."""

import os

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import translation

from manuals.images.pipeline import store_image
from manuals.integrity import check_trees
from manuals.models import Image, Manual, Revision, Section
from manuals.signals import sections_deleted
from manuals.team_templates.curation import create_template, delete_template
from search.index import check_index, rebuild_index
from search.results import search_sections
from tests.conftest import section_titled
from tests.manuals.test_images import picture
from tests.searching import index_pending_like_the_worker

pytestmark = pytest.mark.django_db(transaction=True)


def titles(user, query):
    return [h.title for h in search_sections(user=user, query=query, per_page=100).hits]


def test_an_admin_deletes_a_manual_with_everything_in_it(alice, lena, alice_manual, client):
    section = section_titled(alice_manual, "考勤制度")
    picture_row = store_image(manual=alice_manual, data=picture(), original_name="排班表.jpg")
    files = [picture_row.file.path, picture_row.thumbnail.path]
    rebuild_index()
    assert titles(alice, "考勤制度的内容") == ["考勤制度"]
    admin = get_user_model().objects.create_superuser("admin", password="x-admin-pw-9")
    client.force_login(admin)
    url = reverse("admin:manuals_manual_delete", args=[alice_manual.pk])
    assert client.get(url).status_code == 200  # the confirmation page, not a ProtectedError
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Manual.objects.filter(pk=alice_manual.pk).exists()
    assert not Section.objects.filter(manual_id=alice_manual.pk).exists()
    assert not Revision.objects.filter(section_id=section.pk).exists()
    assert not Image.objects.filter(pk=picture_row.pk).exists()
    assert not any(os.path.exists(f) for f in files)
    index_pending_like_the_worker()
    assert titles(alice, "考勤制度的内容") == []
    assert check_trees() == [] and check_index().ok


def test_deleting_a_template_tells_the_index_which_manual_went(lena):
    template = create_template(lead=lena, title="新模板", start_from="blank")
    heard = []

    def receiver(sender, *, manual_id, section_ids, **kwargs):
        heard.append((manual_id, sorted(section_ids)))

    sections_deleted.connect(receiver)
    try:
        expected = sorted(Section.objects.filter(manual=template).values_list("pk", flat=True))
        delete_template(template=template, user=lena)
    finally:
        sections_deleted.disconnect(receiver)
    assert heard == [(template.pk, expected)]
    assert titles(lena, "新模板") == []


class FailOnThirdChapter:
    """The database refuses the row of the third chapter (say, the disk is full)."""

    def __init__(self, title):
        self.title = title

    def __call__(self, execute, sql, params, many, context):
        rows = params if many else [params]
        if sql.lstrip().upper().startswith("INSERT") and any(
            self.title in (p if isinstance(p, list | tuple) else [p]) for p in rows or []
        ):
            raise OperationalError("database or disk is full")
        return execute(sql, params, many, context)


def test_a_blank_manual_is_created_whole_or_not_at_all(alice, client):
    client.force_login(alice)
    with connection.execute_wrapper(FailOnThirdChapter("项目资料")):
        with pytest.raises(OperationalError):
            client.post(reverse("manuals:new_manual"))
    assert not Manual.objects.filter(owner=alice).exists()
    response = client.post(reverse("manuals:new_manual"))
    manual = Manual.objects.get(owner=alice)
    assert response.url == reverse("manuals:manual", args=[manual.pk])
    assert [s.title for s in manual.outline()] == ["管理制度", "工作复盘", "项目资料", "学习工具"]
    assert all(
        Revision.objects.filter(section=s).count() == 1 for s in manual.outline()
    )  # each chapter has its first revision
    assert check_trees() == []


def test_blank_chapters_speak_the_language_of_whoever_creates_them(alice, lena, client):
    client.force_login(alice)
    client.cookies["django_language"] = "en"
    client.post(reverse("manuals:new_manual"))
    manual = Manual.objects.get(owner=alice)
    english = ["Rules and policies", "Retrospective", "Project notes", "Tools and learning"]
    assert [s.title for s in manual.outline()] == english
    with translation.override("en"):
        template = create_template(lead=lena, title="Blank", start_from="blank")
    assert [s.title for s in template.outline()] == english
    assert {s.visibility for s in template.outline()} == {Section.Visibility.SHARED}
