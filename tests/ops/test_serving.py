"""The production stack exactly as `make run` starts it (manage.py serve): gunicorn,
whitenoise, both workers, behind a simulated HTTPS reverse proxy."""

import os
import re
import signal
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from ops.management.commands.serve import WORKER_QUEUES
from tests.ops.stack import REPO, printed_demo_password, start_stack

pytestmark = pytest.mark.serving


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("serving") / "data"
    stack = start_stack(data_dir, env={"LANBITOU_HTTPS": "1"})
    try:
        stack.wait_healthy()
        yield stack
    finally:
        if stack.process.poll() is None:
            stack.stop()


def proxied(stack, **extra):
    """Headers nginx adds in front of us (deploy/nginx.conf)."""
    return {"Host": f"127.0.0.1:{stack.port}", "X-Forwarded-Proto": "https", **extra}


def cookies_of(headers) -> SimpleCookie:
    jar = SimpleCookie()
    for name, value in headers.items():
        if name.lower() == "set-cookie":
            jar.load(value)
    return jar


def test_a_first_run_generates_a_secret_key_and_prints_a_random_demo_password(stack):
    data_dir = stack.log.parent / "data"
    assert len((data_dir / "secret_key").read_text().strip()) >= 50
    assert oct((data_dir / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert printed_demo_password(stack.log) != "lanbitou-demo"


def test_healthz_reports_every_check_fine_over_plain_http(stack):
    status, body = stack.health()  # load balancers probe without TLS: no redirect
    assert status == 200
    assert body == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "data_dir": "ok",
            "storage": "ok",
            "search_index": "ok",
            "workers": "ok",
        },
    }


def test_static_files_are_served_compressed_with_debug_off(stack):
    status, headers, body = stack.request(
        "GET", "/static/css/app.css", headers=proxied(stack, **{"Accept-Encoding": "gzip"})
    )
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert headers.get("Content-Encoding") == "gzip"


def test_plain_http_is_redirected_to_https(stack):
    status, headers, _ = stack.request("GET", "/login/", headers={"Host": "localhost"})
    assert status == 301
    assert headers["Location"] == "https://localhost/login/"


def test_login_behind_an_https_proxy_sets_secure_cookies_and_hsts(stack):
    status, headers, body = stack.request("GET", "/login/", headers=proxied(stack))
    assert status == 200
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    csrf = cookies_of(headers)["csrftoken"]
    assert csrf["secure"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urlencode(
        {"csrfmiddlewaretoken": token, "username": "lena",
         "password": printed_demo_password(stack.log)}
    )  # fmt: skip
    status, headers, _ = stack.request(
        "POST",
        "/login/",
        body=form,
        headers=proxied(
            stack,
            Origin=f"https://127.0.0.1:{stack.port}",
            Cookie=f"csrftoken={csrf.value}",
            **{"Content-Type": "application/x-www-form-urlencoded"},
        ),
    )
    assert status == 302, "the browser's https Origin must match the proxied request"
    assert headers["Location"] == "/"
    session = cookies_of(headers)["sessionid"]
    assert session["secure"] and session["httponly"]


@pytest.mark.parametrize(
    ("language", "text"), [("zh-hans", "页面已过期"), ("en", "This page has expired")]
)
def test_a_refused_form_gets_the_csrf_page_in_the_users_language(stack, language, text):
    status, _, body = stack.request(
        "POST",
        "/login/",
        body="username=lena&password=x",
        headers=proxied(
            stack,
            Cookie=f"django_language={language}",
            **{"Content-Type": "application/x-www-form-urlencoded"},
        ),
    )
    assert status == 403
    page = body.decode()
    assert text in page and 'class="topbar"' in page and 'href="/"' in page
    assert "CSRF" not in page


@pytest.mark.parametrize(
    ("language", "text"), [("zh-hans", "找不到这个页面"), ("en", "Page not found")]
)
def test_an_unknown_address_gets_the_404_page_in_the_users_language(stack, language, text):
    status, _, body = stack.request(
        "GET", "/no/such/page/", headers=proxied(stack, Cookie=f"django_language={language}")
    )
    page = body.decode()
    assert status == 404
    assert text in page and 'href="/"' in page
    assert "URLconf" not in page and "urlpatterns" not in page  # never DEBUG's page


def test_access_log_lines_are_json_with_status_and_duration(stack):
    stack.request("GET", "/healthz")
    time.sleep(0.5)
    import json

    lines = [json.loads(line) for line in stack.log.read_text().splitlines() if line[:1] == "{"]
    requests = [line for line in lines if line.get("event") == "request"]
    assert any(r["path"] == "/healthz" and r["status"] == 200 and "ms" in r for r in requests)


def test_a_crashed_worker_is_restarted_and_ctrl_c_stops_everything(stack):
    workers = {pid: cmd for pid, cmd in stack.children().items() if "run_worker" in cmd}
    assert len(workers) == len(WORKER_QUEUES)
    victim = next(iter(workers))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = {pid for pid, cmd in stack.children().items() if "run_worker" in cmd}
        if len(now) == len(WORKER_QUEUES) and victim not in now:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the killed worker was not restarted")
    stack.wait_healthy()

    children = list(stack.children())
    assert stack.stop() == 0
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read()


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    env = {
        **os.environ,
        "LANBITOU_DATA_DIR": str(tmp_path),
        "LANBITOU_DEBUG": "0",
        "LANBITOU_HTTPS": "1",
        "LANBITOU_SECRET_KEY": "k" * 10 + "-7hQ2vX9pL4mN8rT1wY6zB3cF5gJ0sD-" + "q" * 20,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' fixture, not a site
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_switch_and_trusted_origins_come_from_the_environment(tmp_path):
    env = {
        **os.environ,
        "LANBITOU_DATA_DIR": str(tmp_path),
        "LANBITOU_HTTPS": "1",
        "LANBITOU_CSRF_TRUSTED_ORIGINS": "https://manuals.example.com, https://kb.example.com",
    }
    code = (
        "from django.conf import settings as s; print(s.CSRF_TRUSTED_ORIGINS, "
        "s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == (
        "['https://manuals.example.com', 'https://kb.example.com'] "
        "('HTTP_X_FORWARDED_PROTO', 'https') True True False"
    ), result.stderr


def test_serve_on_a_port_in_use_gives_up_and_says_so(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "LANBITOU_DATA_DIR": str(tmp_path / "data")}
        result = subprocess.run(
            [sys.executable, "manage.py", "serve", "--no-demo", "--bind", f"127.0.0.1:{port}",
             "--web-workers", "1"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
    assert result.returncode == 1
    assert "web exited 5 times right after starting; everything stopped" in result.stderr
    assert "Address already in use" in result.stdout + result.stderr
