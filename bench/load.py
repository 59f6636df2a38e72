"""Bounded load test (issue 15) against the production stack of `make run` on 127.0.0.1.

N simulated agents (default 100) for D seconds (default 120), each pausing 2–8 s between
actions like a person between calls: open a section, search the team, find in the manual,
save a section. One print run is requested meanwhile. Prints p50/p95 per action, errors
(an edit conflict is a correct answer, not an error), and checks afterwards that no save
was lost: check_trees, and revisions added == successful saves, per section.

    .venv/bin/python bench/load.py                       # SQLite, 100 agents, 120 s
    .venv/bin/python bench/load.py --database postgres   # a throwaway PostgreSQL
    .venv/bin/python bench/load.py --agents 20 --seconds 30
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-load-pw"
WORDS = ["退款", "投诉", "客户", "物流", "复盘", "升级", "工单", "话术", "质检", "流程"]
ACTIONS = [("open", 40), ("search", 25), ("find", 20), ("save", 15)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def seed(agents: int) -> list[dict]:
    """A team with a lead and ``agents`` agents, each with a manual cloned from the
    template; returns what each simulated agent works on."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from manuals.models import Member, Section, Team
    from manuals.team_templates.cloning import clone_template
    from manuals.team_templates.default_template import ensure_default_template

    User = get_user_model()
    hashed = make_password(PASSWORD)  # once: 100 PBKDF2 hashes would dominate the set-up
    team = Team.objects.create(name="负载测试组")
    lead = User.objects.create(username="lead", password=hashed)
    Member.objects.create(user=lead, team=team, role=Member.Role.LEAD, display_name="主管")
    template = ensure_default_template(team=team)
    people = []
    for number in range(agents):
        user = User.objects.create(username=f"agent{number:03d}", password=hashed)
        Member.objects.create(user=user, team=team, display_name=f"客服{number:03d}")
        manual = clone_template(template=template, owner=user)
        sections = list(
            Section.objects.filter(manual=manual, level__gt=0).values_list("pk", "version")
        )
        people.append({"username": user.username, "manual": manual.pk, "sections": dict(sections)})
    return people


class Agent(threading.Thread):
    def __init__(self, port: int, person: dict, deadline: float, results: list, lock):
        super().__init__(daemon=True)
        self.port, self.person, self.deadline = port, person, deadline
        self.results, self.lock = results, lock
        self.cookies: dict[str, str] = {}
        self.connection = None
        self.saves: Counter = Counter()

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                jar = SimpleCookie()
                jar.load(value)
                self.cookies.update({k: m.value for k, m in jar.items()})
        return response.status, data

    def timed(self, action: str, method: str, path: str, form=None, ok=(200, 302)):
        started = time.perf_counter()
        try:
            status, data = self.request(method, path, form)
        except Exception as exc:  # a dropped connection is an error too
            status, data = 0, str(exc).encode()
        ms = (time.perf_counter() - started) * 1000
        outcome = "ok" if status in ok else ("conflict" if status == 409 else "error")
        with self.lock:
            self.results.append((action, ms, status, outcome))
        return status, data

    def log_in(self) -> None:
        self.request("GET", "/login/")
        form = {"username": self.person["username"], "password": PASSWORD,
                "csrfmiddlewaretoken": self.cookies["csrftoken"]}  # fmt: skip
        status, _ = self.request("POST", "/login/", form)
        assert status == 302, f"login failed for {self.person['username']}: {status}"

    def run(self) -> None:
        manual, sections = self.person["manual"], self.person["sections"]
        names, weights = zip(*ACTIONS, strict=True)
        while True:
            time.sleep(random.uniform(2, 8))
            if time.monotonic() > self.deadline:
                return
            action = random.choices(names, weights)[0]
            section = random.choice(list(sections))
            word = quote(random.choice(WORDS))
            if action == "open":
                self.timed(action, "GET", f"/manual/{manual}/section/{section}/")
            elif action == "search":
                self.timed(action, "GET", f"/search/?q={word}")
            elif action == "find":
                self.timed(action, "GET", f"/search/manual/{manual}/find/?q={word}")
            else:
                self.save(manual, section)

    def save(self, manual: int, section: int) -> None:
        version = self.person["sections"][section]
        form = {
            "csrfmiddlewaretoken": self.cookies["csrftoken"],
            "title": f"第 {version + 1} 版",
            "kind": "note",
            "visibility": "private",
            "body": f"<p>{random.choice(WORDS)}：第 {version + 1} 次保存，{time.time()}</p>",
            "version": str(version),
        }
        path = f"/manual/{manual}/section/{section}/edit/"
        status, data = self.timed("save", "POST", path, form, ok=(302,))
        if status == 302:
            self.person["sections"][section] = version + 1
            self.saves[section] += 1
        elif status == 409:
            found = re.search(rb'name="version" value="(\d+)"', data)
            if found:
                self.person["sections"][section] = int(found.group(1))


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the stack exited during start-up")
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        time.sleep(1)
    raise SystemExit("the stack never became healthy")


def run(args, data_dir: Path, database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ["LANBITOU_ALLOWED_HOSTS"] = "127.0.0.1"
    from bench.corpus import setup_django

    setup_django(str(data_dir))
    from django.db import connections

    from manuals.integrity import check_trees
    from manuals.models import Manual, Revision
    from printing.booklet import BookletOptions
    from printing.jobs import request_edition
    from printing.models import Edition

    started = time.monotonic()
    people = seed(args.agents)
    print(f"seeded {args.agents} agents' manuals in {time.monotonic() - started:.0f} s")
    revisions_before = Counter(Revision.objects.values_list("section_id", flat=True))
    connections.close_all()

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(data_dir / "stack.log", "wb")
    stack = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-demo", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_healthy(port, stack)
        results, lock = [], threading.Lock()
        agents = [Agent(port, person, 0, results, lock) for person in people]
        # Everyone logs in first, outside the measured window: a login is a deliberately
        # slow password hash, and a team does not all log in within the same two minutes.
        started = time.monotonic()
        for agent in agents:
            agent.log_in()
        print(f"{len(agents)} logins in {time.monotonic() - started:.0f} s")
        deadline = time.monotonic() + args.seconds
        for agent in agents:
            agent.deadline = deadline
            agent.start()
        time.sleep(10)
        printed = Manual.objects.filter(is_template=False).order_by("pk").first()
        edition, _ = request_edition(
            manual=printed, user=printed.owner, options=BookletOptions(title="负载测试印刷")
        )
        print_started = time.monotonic()
        for agent in agents:
            agent.join()
        while Edition.objects.get(pk=edition.pk).is_active and time.monotonic() < deadline + 600:
            time.sleep(2)
        edition.refresh_from_db()
        print_seconds = time.monotonic() - print_started
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=120)
        log.close()

    load = os.getloadavg()
    print(f"\n{args.agents} agents, {args.seconds} s, database {args.database}; "
          f"{len(results)} requests ({len(results) / args.seconds:.1f}/s); "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    by_action = defaultdict(list)
    outcomes = Counter()
    for action, ms, status, outcome in results:
        if outcome != "error":
            by_action[action].append(ms)
        outcomes[(action, outcome, status)] += 1
    print(f"{'action':<8}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for action, _weight in ACTIONS:
        values = by_action[action]
        print(f"{action:<8}{len(values):>6}{statistics.median(values) if values else 0:>9.0f}"
              f"{pct(values, 0.95):>9.0f}{max(values, default=0):>9.0f}")  # fmt: skip
    errors = {k: n for k, n in outcomes.items() if k[1] == "error"}
    conflicts = sum(n for k, n in outcomes.items() if k[1] == "conflict")
    print(f"errors: {sum(errors.values())} {errors or ''}; edit conflicts: {conflicts}")
    print(f"print run: {edition.status} after {print_seconds:.0f} s")

    saves = Counter()
    for agent in agents:
        saves.update(agent.saves)
    after = Counter(Revision.objects.values_list("section_id", flat=True))
    added = after - revisions_before
    lost = {s: (n, added.get(s, 0)) for s, n in saves.items() if added.get(s, 0) != n}
    problems = check_trees()
    print(f"saves: {sum(saves.values())} successful, revisions added: {sum(added.values())}; "
          f"sections whose counts differ: {len(lost)}; check_trees: "
          f"{'clean' if not problems else problems[:3]}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="lanbitou-load-"))
    print(f"data directory {data_dir}")
    if args.database == "postgres":
        from tests.pgserver import postgres_bin_dir, running_postgres

        with running_postgres(postgres_bin_dir()) as url:
            run(args, data_dir, url)
    else:
        run(args, data_dir, None)


if __name__ == "__main__":
    main()
