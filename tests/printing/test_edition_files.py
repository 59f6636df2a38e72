"""Printed PDFs do not outlive their edition: deleting a manual or an edition removes them."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from manuals.models import Manual
from manuals.team_templates.curation import create_template
from printing import jobs
from printing.booklet import BookletOptions
from printing.jobs import request_edition, run_edition
from printing.models import Edition


def printed(manual, user) -> Edition:
    edition, _created = request_edition(manual=manual, user=user, options=BookletOptions())
    assert run_edition(edition_id=edition.pk) == Edition.Status.DONE
    edition.refresh_from_db()
    assert Path(edition.file.path).is_file()
    return edition


def test_deleting_a_printed_template_removes_its_pdfs(
    client, lena, django_capture_on_commit_callbacks
):
    spare = create_template(lead=lena, title="试用模板", start_from="default")
    first, second = printed(spare, lena), printed(spare, lena)
    folder = Path(settings.EDITIONS_DIR) / str(spare.pk)
    assert len(list(folder.glob("*.pdf"))) == 2
    client.force_login(lena)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("manuals:template_delete", args=[spare.pk]))
    assert not Manual.objects.filter(pk=spare.pk).exists()
    assert not Edition.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert not Path(first.file.path).exists() and not Path(second.file.path).exists()
    assert not folder.exists()


def test_deleting_one_edition_keeps_the_others(
    alice, lena, illustrated_manual, django_capture_on_commit_callbacks
):
    keep, drop = printed(illustrated_manual, alice), printed(illustrated_manual, lena)
    with django_capture_on_commit_callbacks(execute=True):
        Edition.objects.filter(pk=drop.pk).delete()  # e.g. from the admin
    assert not Path(drop.file.path).exists()
    assert Path(keep.file.path).is_file()


@pytest.mark.django_db(transaction=True)
def test_a_deletion_that_rolls_back_keeps_the_pdf(alice, illustrated_manual):
    edition = printed(illustrated_manual, alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        Edition.objects.filter(pk=edition.pk).delete()
        raise RuntimeError("the deletion failed later on")
    assert Edition.objects.filter(pk=edition.pk).exists()
    assert Path(edition.file.path).is_file()
    Edition.objects.filter(pk=edition.pk).delete()  # committed: now it goes
    assert not Path(edition.file.path).exists()


def test_an_edition_deleted_while_it_prints_leaves_no_pdf(alice, illustrated_manual, monkeypatch):
    edition, _created = request_edition(
        manual=illustrated_manual, user=alice, options=BookletOptions()
    )
    render = jobs._run_child

    def deleted_meanwhile(edition_id, spec, time_limit):
        Edition.objects.filter(pk=edition_id).delete()  # another request, mid-render
        return render(edition_id, spec, time_limit)  # the real render still runs

    monkeypatch.setattr(jobs, "_run_child", deleted_meanwhile)
    assert run_edition(edition_id=edition.pk) == "deleted"
    folder = Path(settings.EDITIONS_DIR) / str(illustrated_manual.pk)
    assert list(folder.glob("*.pdf")) == []
