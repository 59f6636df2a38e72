"""The real stack of ``make run`` (``manage.py serve``) on a free port, for tests."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    process: subprocess.Popen
    port: int
    log: Path

    def request(self, method: str, path: str, *, headers=None, body=None, timeout=30):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def health(self) -> tuple[int, dict]:
        status, _headers, body = self.request("GET", "/healthz")
        return status, json.loads(body)

    def wait_healthy(self, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                status, body = self.health()
                last = body
                if status == 200:
                    return body
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"never healthy: {last}\n{self.log.read_text()[-3000:]}")

    def wait_serving(self, timeout: float = 180) -> None:
        """Until the web process answers pages (migrated), whatever /healthz says."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if self.request("GET", "/login/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"never served a page\n{self.log.read_text()[-3000:]}")

    def children(self) -> dict[int, str]:
        """pid → command line of the supervisor's direct children."""
        found = {}
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            for pid in (task / "children").read_text().split():
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                found[int(pid)] = cmdline.decode()
        return found

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)  # what Ctrl+C sends
        return self.process.wait(timeout=60)


def start_stack(
    data_dir: Path,
    *,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = ("--web-workers", "2"),
) -> Stack:
    port = free_port()
    log = data_dir.parent / "stack.log"
    full_env = {**os.environ, "LANBITOU_DATA_DIR": str(data_dir), **(env or {})}
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", *args],
            cwd=REPO, env=full_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return Stack(process=process, port=port, log=log)


def printed_demo_password(log: Path) -> str:
    match = re.search(r"Password for all of them: (\S+)", log.read_text(errors="replace"))
    assert match, log.read_text()
    return match.group(1)
