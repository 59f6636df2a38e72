"""Error pages in the site's layout and /healthz, through Django's test client."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from ops.models import WorkerBeat


@pytest.fixture
def failing_client(settings):
    settings.ROOT_URLCONF = "tests.ops.error_urls"
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    ("language", "text"), [("zh-hans", "服务器出错了"), ("en", "Something went wrong")]
)
def test_a_crashing_view_shows_the_500_page_in_the_users_language(
    failing_client, alice, language, text
):
    failing_client.force_login(alice)
    failing_client.cookies["django_language"] = language
    response = failing_client.get("/broken/")
    page = response.content.decode()
    assert response.status_code == 500
    assert text in page and 'class="topbar"' in page and 'href="/"' in page
    assert "boom" not in page and "Traceback" not in page


@pytest.mark.parametrize(("language", "text"), [("zh-hans", "没有权限"), ("en", "Not allowed")])
def test_a_refused_action_shows_the_403_page_with_a_way_back(failing_client, alice, language, text):
    failing_client.force_login(alice)
    failing_client.cookies["django_language"] = language
    response = failing_client.get("/forbidden/")
    assert response.status_code == 403
    assert text in response.content.decode()
    assert 'href="/"' in response.content.decode()


def test_a_manual_of_another_team_is_the_404_page(client, carol, alice_manual):
    client.force_login(carol)
    response = client.get(f"/manual/{alice_manual.pk}/")
    assert response.status_code == 404
    assert "找不到这个页面" in response.content.decode()


def test_healthz_fails_while_no_worker_serves_the_queues(client, db):
    call_command("rebuild_index", verbosity=0)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] == "ok"
    assert "printing" in body["checks"]["workers"]


def test_healthz_is_ok_with_fresh_beats_for_every_queue_and_an_index(client, db):
    call_command("rebuild_index", verbosity=0)
    now = timezone.now()
    WorkerBeat.objects.create(worker="a:1", queues="default,search,imports", seen_at=now)
    WorkerBeat.objects.create(worker="a:2", queues="printing", seen_at=now)
    assert client.get("/healthz").status_code == 200


def test_healthz_fails_when_a_worker_was_last_seen_long_ago(client, db):
    call_command("rebuild_index", verbosity=0)
    now = timezone.now()
    WorkerBeat.objects.create(worker="a:1", queues="default,search,imports", seen_at=now)
    WorkerBeat.objects.create(worker="a:2", queues="printing", seen_at=now - timedelta(minutes=5))
    assert client.get("/healthz").json()["checks"]["workers"].endswith("printing")


def test_healthz_fails_without_a_search_index(client, db):
    assert "search index" in client.get("/healthz").json()["checks"]["search_index"]


def test_healthz_answers_a_load_balancer_probing_by_ip_address(client, db):
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 503  # answered (no workers here), not refused as 400
    assert response.json()["checks"]["database"] == "ok"
