"""Two web nodes and a worker node on one PostgreSQL and one shared files directory.

Each node is its own process tree (``manage.py serve --web-only``: gunicorn, production
settings) with its own data directory (search index, caches); only the database, the
secret key and LANBITOU_FILES_DIR are shared, as on machines behind a load balancer. The
workers (printing, imports, search) run on a third "node" with a data directory of its own.
Search is kept in the database (the PostgreSQL engine, the default there), so what one node
saves the other finds at once.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from PIL import Image as PILImage

from tests.manuals.test_import_worker_crash import picture_heavy_docx
from tests.ops.stack import REPO, Stack, printed_demo_password, start_stack
from tests.pgserver import postgres_bin_dir, running_postgres
from tests.workers import stop

pytestmark = [pytest.mark.serving, pytest.mark.postgres]


class Browser:
    """One person's cookies, sent to whichever node a request goes to."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def request(self, node: Stack, method: str, path: str, *, body=b"", headers=None):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent = {"Host": f"127.0.0.1:{node.port}", **({"Cookie": cookie} if cookie else {})}
        if method == "POST":
            sent["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        sent.update(headers or {})
        status, got, data = node.request(method, path, body=body, headers=sent)
        for name, value in got.items():
            if name.lower() == "set-cookie":
                jar = SimpleCookie()
                jar.load(value)
                self.cookies.update({k: m.value for k, m in jar.items()})
        return status, got, data

    def post_form(self, node: Stack, path: str, fields: dict):
        form = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
        kind = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request(node, "POST", path, body=urlencode(form), headers=kind)

    def post_file(
        self, node: Stack, path: str, fields: dict, name: str, data: bytes, *,
        field: str = "file", content_type: str = "image/jpeg",
    ):  # fmt: skip
        boundary = uuid.uuid4().hex
        head = f"--{boundary}\r\nContent-Disposition: form-data; "
        parts = [f'{head}name="{key}"\r\n\r\n{value}\r\n'.encode() for key, value in fields.items()]
        file_head = f'{head}name="{field}"; filename="{name}"\r\nContent-Type: {content_type}'
        parts.append(f"{file_head}\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        kind = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request(node, "POST", path, body=body, headers=kind)

    def log_in(self, node: Stack, username: str, password: str) -> None:
        self.request(node, "GET", "/login/")
        status, headers, _ = self.post_form(
            node, "/login/", {"username": username, "password": password}
        )
        assert status == 302 and "sessionid" in self.cookies, (status, headers)


def photo() -> bytes:
    img = PILImage.new("RGB", (800, 500), (200, 120, 40))
    for x in range(0, 800, 80):
        img.paste((30, 90, 160), (x, 100, x + 40, 400))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def poll(browser: Browser, node: Stack, path: str, until, *, timeout: float = 300) -> list:
    """The JSON answers of ``path`` until ``until(answer)`` (all of them, in order)."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _, body = browser.request(node, "GET", path)
        assert status == 200, body[:300]
        seen.append(json.loads(body))
        if until(seen[-1]):
            return seen
        time.sleep(0.3)
    raise AssertionError(f"{path} never got there: {seen[-3:]}")


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries are not installed (make test installs them)")
    root = tmp_path_factory.mktemp("two-nodes")
    shared = root / "shared"
    for folder in ("shared", "a", "b", "c"):
        (root / folder).mkdir()
    with running_postgres(bin_dir) as url:
        env = {
            "DATABASE_URL": url,
            "LANBITOU_FILES_DIR": str(shared),
            "LANBITOU_SECRET_KEY": "two-nodes-" + "s" * 50,
        }
        web = ("--web-only", "--web-workers", "1")
        # Both nodes start at once, as behind a load balancer: they take turns to migrate,
        # and only the first loads the demo team.
        a = start_stack(root / "a" / "data", env=env, args=web)
        b = start_stack(root / "b" / "data", env=env, args=web)
        workers = []
        try:
            a.wait_serving()  # migrated: the workers may start
            b.wait_serving()
            worker_env = {**os.environ, **env, "LANBITOU_DATA_DIR": str(root / "c" / "data")}
            worker_env.pop("DJANGO_SETTINGS_MODULE", None)
            for queues in ("default,search,imports", "printing"):
                log = open(root / "c" / f"worker-{queues}.log", "wb")
                workers.append(subprocess.Popen(
                    [sys.executable, "manage.py", "run_worker", queues], cwd=REPO,
                    env=worker_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                ))  # fmt: skip
            a.wait_healthy()
            b.wait_healthy()
            with psycopg.connect(url) as db:
                manual_id = db.execute(
                    "SELECT m.id FROM manuals_manual m JOIN auth_user u ON u.id = m.owner_id "
                    "WHERE u.username = 'alice' AND NOT m.is_template ORDER BY m.id LIMIT 1"
                ).fetchone()[0]
            yield {"a": a, "b": b, "root": root, "shared": shared, "manual_id": manual_id,
                   "password": the_demo_password(a, b), "url": url}  # fmt: skip
        finally:
            for worker in workers:
                stop(worker)
            for node in (a, b):
                if node is not None and node.process.poll() is None:
                    node.stop()


def the_demo_password(*nodes: Stack) -> str:
    """The password the one node that loaded the demo printed (the others found it there)."""
    seeded = [n for n in nodes if "Password for all of them" in n.log.read_text(errors="replace")]
    assert len(seeded) == 1, [n.log.read_text(errors="replace") for n in nodes]
    return printed_demo_password(seeded[0].log)


def upload_cover(browser: Browser, node: Stack, manual_id: int) -> str:
    status, _, body = browser.post_file(
        node, f"/manual/{manual_id}/images/upload/", {"purpose": "cover"}, "封面.jpg", photo()
    )
    assert status == 201, body[:500]
    return json.loads(body)["url"]


def test_nodes_started_together_migrated_once_and_loaded_one_demo_team(site):
    with psycopg.connect(site["url"]) as db:
        twice = db.execute(
            "SELECT app, name FROM django_migrations GROUP BY app, name HAVING count(*) > 1"
        ).fetchall()
        demo_agents = db.execute("SELECT count(*) FROM auth_user WHERE username = 'alice'")
        assert twice == [] and demo_agents.fetchone()[0] == 1


def test_a_picture_uploaded_on_one_node_is_served_by_the_other(site):
    a, b, manual_id = site["a"], site["b"], site["manual_id"]
    alice = Browser()
    alice.log_in(a, "alice", site["password"])
    url = upload_cover(alice, a, manual_id)

    status_a, headers_a, on_a = alice.request(a, "GET", url)
    status_b, headers_b, on_b = alice.request(b, "GET", url)  # same session, other node
    assert (status_a, status_b) == (200, 200)
    assert on_b == on_a and on_b[:2] == b"\xff\xd8" and headers_b["Content-Type"] == "image/jpeg"
    # It lives in the shared directory, not in either node's own data directory.
    assert [p.name for p in files_in(site["shared"] / "media" / "manuals" / str(manual_id))]
    assert not files_in(site["root"] / "a" / "data" / "media")
    assert not files_in(site["root"] / "b" / "data" / "media")

    # Node B checks access as node A does: no session → login; a teammate → 404.
    assert Browser().request(b, "GET", url)[0] == 302
    bob = Browser()
    bob.log_in(b, "bob", site["password"])
    assert bob.request(b, "GET", url)[0] == 404


def test_a_booklet_rendered_by_the_worker_node_downloads_from_either_web_node(site):
    a, b, manual_id, root = site["a"], site["b"], site["manual_id"], site["root"]
    alice = Browser()
    alice.log_in(b, "alice", site["password"])
    upload_cover(alice, a, manual_id)  # the booklet's cover, uploaded through the other node
    alice.request(b, "GET", f"/print/manual/{manual_id}/")
    status, headers, _ = alice.post_form(
        b, f"/print/manual/{manual_id}/",
        {"theme": "plain", "paper": "A5", "scope": "all", "subtree": "", "title": "",
         "image_style": ""},
    )  # fmt: skip
    assert status == 302, headers
    edition_id = int(re.search(r"/print/edition/(\d+)/", headers["Location"]).group(1))

    deadline = time.monotonic() + 600
    while True:
        status, _, body = alice.request(a, "GET", f"/print/edition/{edition_id}/status/")
        state = json.loads(body)
        if state["status"] in {"done", "failed"} or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert state["status"] == "done", state

    download = f"/print/edition/{edition_id}/download/"
    status_a, _, pdf_a = alice.request(a, "GET", download)
    status_b, headers_b, pdf_b = alice.request(b, "GET", download)
    assert (status_a, status_b) == (200, 200)
    assert pdf_a == pdf_b and pdf_a.startswith(b"%PDF")
    assert headers_b["Content-Type"] == "application/pdf"
    assert "attachment" in headers_b["Content-Disposition"]
    assert Browser().request(a, "GET", download)[0] == 302  # still behind the login

    # The PDF is in the shared editions folder; the worker node rendered it from its own
    # copy of the picture (print cache) and left nothing in its work folder.
    stored = files_in(site["shared"] / "editions" / str(manual_id))
    assert [p.read_bytes() for p in stored] == [pdf_a]
    assert files_in(root / "c" / "data" / "print-cache" / "images" / str(manual_id))
    assert not files_in(root / "c" / "data" / "print-work")
    for node in ("a", "b"):
        assert not files_in(root / node / "data" / "editions")
        assert not files_in(root / node / "data" / "print-cache")


def test_a_large_import_uploaded_on_one_node_is_done_by_the_worker_node(site):
    a, b, shared = site["a"], site["b"], site["shared"]
    alice = Browser()
    alice.log_in(a, "alice", site["password"])
    document = picture_heavy_docx(4)
    assert len(document) > 2 * 1024 * 1024
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    status, headers, _ = alice.post_file(
        a, "/import/", {}, "截图汇总.docx", document, field="document", content_type=docx
    )
    assert status == 302, headers
    job = int(re.search(r"/import/(\d+)/", headers["Location"]).group(1))
    status_url = f"/import/{job}/status/"

    # The worker node reads the upload from the shared files; node B shows the result.
    poll(alice, b, status_url, lambda s: s["status"] == "ready")
    alice.request(b, "GET", f"/import/{job}/")
    status, _, _ = alice.post_form(
        b, f"/import/{job}/confirm/", {"destination": "new", "title": "两台机器的导入"}
    )
    assert status == 302
    seen = poll(alice, a, status_url, lambda s: s["status"] in {"done", "failed"})
    assert seen[-1]["status"] == "done", seen[-1]
    percents = [s["percent"] for s in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    status, _, page = alice.request(b, "GET", seen[-1]["manual_url"])
    assert status == 200 and "两台机器的导入" in page.decode()
    # The upload, its progress and journal go from the shared files (right after "done",
    # which commits with the manual); the pictures stay.
    deadline = time.monotonic() + 30
    while files_in(shared / "media" / "imports") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not files_in(shared / "media" / "imports")


def test_a_section_saved_on_one_node_is_found_by_search_on_the_other_at_once(site):
    a, b, manual_id = site["a"], site["b"], site["manual_id"]
    with psycopg.connect(site["url"]) as db:
        section_id, version, title = db.execute(
            "SELECT id, version, title FROM manuals_section WHERE manual_id = %s AND level = 2 "
            "ORDER BY id LIMIT 1",
            (manual_id,),
        ).fetchone()
    alice = Browser()
    alice.log_in(a, "alice", site["password"])
    marker = f"跨节点查找{uuid.uuid4().hex[:6]}"
    status, headers, _ = alice.post_form(
        a, f"/manual/{manual_id}/section/{section_id}/edit/",
        {"title": title, "kind": "note", "visibility": "private", "version": str(version),
         "body": f"<p>退款规则：{marker}</p>"},
    )  # fmt: skip
    assert status == 302, headers
    saved = time.monotonic()
    while True:
        status, _, body = alice.request(b, "GET", "/search/?" + urlencode({"q": marker}))
        assert status == 200
        if f'data-section="{section_id}"'.encode() in body:
            break
        assert time.monotonic() - saved < 1.0, "not found on node B within a second"
        time.sleep(0.05)
    # Found by its owner only: a teammate searching on node B does not see a private section.
    bob = Browser()
    bob.log_in(b, "bob", site["password"])
    status, _, body = bob.request(b, "GET", "/search/?" + urlencode({"q": marker}))
    assert status == 200 and f'data-section="{section_id}"'.encode() not in body
