"""Print request page, status polling, archive, download, schedules — and who may see them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from printing.jobs import run_due_schedules, run_edition
from printing.models import Edition, PrintSchedule
from tests.conftest import PASSWORD, build_manual, sign_in


def login(client, user):
    assert sign_in(client, user.username, PASSWORD)
    return client


@pytest.fixture
def done_edition(illustrated_manual, alice):
    from printing.booklet import BookletOptions
    from printing.jobs import request_edition

    edition, _ = request_edition(manual=illustrated_manual, user=alice, options=BookletOptions())
    run_edition(edition_id=edition.pk)
    edition.refresh_from_db()
    assert edition.status == Edition.Status.DONE
    return edition


def test_the_owner_requests_a_booklet_and_follows_its_progress(
    client, alice, illustrated_manual, django_capture_on_commit_callbacks
):
    login(client, alice)
    url = reverse("printing:request", args=[illustrated_manual.pk])
    page = client.get(url)
    assert page.status_code == 200 and "水墨" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"theme": "magazine", "paper": "A4", "scope": "all",
                                     "title": "2026 春季版", "image_style": "sepia"})  # fmt: skip
    edition = Edition.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "printing:edition", args=[edition.pk]
    )
    assert (edition.theme, edition.paper, edition.title, edition.image_style) == (
        "magazine", "A4", "2026 春季版", "sepia"
    )  # fmt: skip
    assert DBTaskResult.objects.filter(queue_name="printing").count() == 1
    status = client.get(reverse("printing:status", args=[edition.pk])).json()
    assert status["status"] == "queued" and status["download_url"] == ""
    assert "排队中" in client.get(response.url).content.decode()


def test_an_empty_manual_shows_why_it_cannot_be_printed(client, alice):
    manual = build_manual(alice, "空手册", [])
    login(client, alice)
    response = client.post(
        reverse("printing:request", args=[manual.pk]),
        {"theme": "plain", "paper": "A5", "scope": "all"},
    )
    assert response.status_code == 200
    assert "没有可打印的章节" in response.content.decode()
    assert not Edition.objects.exists()


def test_done_editions_are_archived_and_downloadable(client, alice, done_edition):
    login(client, alice)
    status = client.get(reverse("printing:status", args=[done_edition.pk])).json()
    assert status["status"] == "done" and status["page_count"] == done_edition.page_count
    pdf = client.get(status["download_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    archive = client.get(reverse("printing:archive")).content.decode()
    assert "下载 PDF" in archive and "王丽的工作手册" in archive


def test_private_editions_are_hidden_from_teammates_and_other_teams(
    client, bob, carol, lena, done_edition
):
    urls = [
        reverse("printing:edition", args=[done_edition.pk]),
        reverse("printing:status", args=[done_edition.pk]),
        reverse("printing:download", args=[done_edition.pk]),
    ]
    login(client, bob)  # teammate: the edition holds alice's private sections
    assert [client.get(u).status_code for u in urls] == [404, 404, 404]
    assert "王丽的工作手册" not in client.get(reverse("printing:archive")).content.decode()
    client.logout()
    login(client, carol)  # another team: not even the print page
    assert [client.get(u).status_code for u in urls] == [404, 404, 404]
    request_url = reverse("printing:request", args=[done_edition.manual_id])
    assert client.get(request_url).status_code == 404
    client.logout()
    login(client, lena)  # the lead too: an edition of all sections holds 仅自己 ones
    assert [client.get(u).status_code for u in urls] == [404, 404, 404]
    client.logout()
    assert client.get(urls[2]).status_code == 302  # anonymous: to the login page


def test_a_teammate_prints_only_the_shared_sections(client, bob, illustrated_manual):
    login(client, bob)
    url = reverse("printing:request", args=[illustrated_manual.pk])
    assert "仅团队共享" in client.get(url).content.decode()
    refused = client.post(url, {"theme": "plain", "paper": "A5", "scope": "all"})
    assert refused.status_code == 200 and not Edition.objects.exists()
    client.post(url, {"theme": "plain", "paper": "A5", "scope": "shared"})
    edition = Edition.objects.get()
    assert edition.scope == "shared"
    run_edition(edition_id=edition.pk)
    assert client.get(reverse("printing:download", args=[edition.pk])).status_code == 200


def test_only_a_lead_sets_the_team_schedule_and_print_due_runs_it(
    client, alice, bob, lena, illustrated_manual
):
    build_manual(bob, "李波的手册", [("管理制度", [])])
    url = reverse("printing:schedule")
    login(client, alice)
    assert client.get(url).status_code == 404
    client.logout()
    login(client, lena)
    due = timezone.localtime() - timedelta(days=40)
    response = client.post(url, {"every": "quarter", "theme": "ink-wash", "paper": "A5",
                                 "scope": "all", "next_run_at": due.strftime("%Y-%m-%dT%H:%M"),
                                 "enabled": "on"})  # fmt: skip
    assert response.status_code == 302
    saved = f'value="{due:%Y-%m-%dT%H:%M}"'  # what the browser's date-time picker reads
    assert saved in client.get(url).content.decode()
    schedule = PrintSchedule.objects.get()
    queued = run_due_schedules()
    assert sorted(e.manual.title for e in queued) == ["李波的手册", "王丽的工作手册"]
    assert all(e.theme == "ink-wash" and e.schedule_id == schedule.pk for e in queued)
    schedule.refresh_from_db()
    assert schedule.next_run_at > timezone.now()
    assert 89 <= (schedule.next_run_at - due).days <= 92  # one quarter after the due date
    assert run_due_schedules() == []  # not due again until next quarter


def test_print_due_command_reports_what_it_queued(alice_manual, lena, capsys):
    from django.core.management import call_command

    schedule = PrintSchedule(team=lena.member.team, every="month")
    schedule.run_next_at(timezone.now() - timedelta(days=1))
    schedule.save()
    call_command("print_due")
    assert "1 edition(s) queued" in capsys.readouterr().out


def test_a_failed_edition_offers_to_print_it_again(client, alice, carol, illustrated_manual):
    from printing.booklet import BookletOptions
    from printing.jobs import request_edition

    edition, _ = request_edition(
        manual=illustrated_manual, user=alice, options=BookletOptions(paper="A4", theme="ink-wash")
    )
    Edition.objects.filter(pk=edition.pk).update(
        status=Edition.Status.FAILED, failure_reason="打印中途后台进程停止了"
    )
    retry = reverse("printing:retry", args=[edition.pk])
    login(client, carol)
    assert client.post(retry).status_code == 404
    login(client, alice)
    page = client.get(reverse("printing:edition", args=[edition.pk])).content.decode()
    assert retry in page
    response = client.post(retry)
    again = Edition.objects.exclude(pk=edition.pk).get()
    assert response.url == reverse("printing:edition", args=[again.pk])
    assert (again.paper, again.theme, again.status) == ("A4", "ink-wash", Edition.Status.QUEUED)


def test_the_print_pages_show_the_themes_name_not_its_folder(client, alice, alice_manual):
    edition = Edition.objects.create(manual=alice_manual, requested_by=alice, theme="plain")
    login(client, alice)
    request_page = client.get(reverse("printing:request", args=[alice_manual.pk])).content.decode()
    edition_page = client.get(reverse("printing:edition", args=[edition.pk])).content.decode()
    for html in (request_page, edition_page):
        assert "简洁 · A5" in html and "plain ·" not in html
