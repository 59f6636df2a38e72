"""A throwaway PostgreSQL server for tests that need real concurrency.

initdb + pg_ctl from Debian's ``postgresql`` package into a temporary directory, listening
on a free loopback port and a private unix socket. PostgreSQL refuses to run as root, so
when the tests run as root the binaries run as the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def postgres_bin_dir() -> Path | None:
    """The newest installed server's bin directory, or None if PostgreSQL is absent."""
    candidates = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if not candidates:
        found = shutil.which("initdb")
        return Path(found).parent if found else None
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        _as_postgres_user(cmd), capture_output=True, text=True, timeout=120, **kwargs
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@contextlib.contextmanager
def running_postgres(bin_dir: Path, *, database: str = "lanbitou",
                     settings: dict[str, str] | None = None) -> Iterator[str]:  # fmt: skip
    """Start a server, create ``database`` and yield its DATABASE_URL; stop and wipe after.
    ``settings``: server settings beyond the test ones (``shared_buffers`` for a benchmark)."""
    tmp = Path(tempfile.mkdtemp(prefix="lanbitou-pg-"))
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(tmp, pg.pw_uid, pg.pw_gid)
    data, sockets, log = tmp / "data", tmp / "sockets", tmp / "server.log"
    port = _free_port()
    started = False
    try:
        _run(["mkdir", "-p", str(sockets)])
        _run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
              "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=60 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        ) + "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
              "-w", "-t", "60", "start"])  # fmt: skip
        started = True
        deadline = time.monotonic() + 30
        while True:
            ready = subprocess.run(
                _as_postgres_user(
                    [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)]
                ),
                capture_output=True,
            )
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text()}")
            time.sleep(0.2)
        _run([str(bin_dir / "createdb"), "-h", str(sockets), "-p", str(port), "-U", "postgres",
              database])  # fmt: skip
        yield f"postgresql://postgres@127.0.0.1:{port}/{database}"
    finally:
        if started:
            subprocess.run(
                _as_postgres_user(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                ),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(tmp, ignore_errors=True)


# What the multi-process tests share: the repository their workers run in, the
# environment that points a worker at the test server, and the JSON line a worker ends with.
REPO = Path(__file__).resolve().parent.parent


def worker_env(url: str, data_dir: Path) -> dict:
    """The environment of a worker process using ``url`` and its own data directory."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        LANBITOU_DATA_DIR=str(data_dir),
    )
    return env


def last_json_line(stdout: str) -> dict:
    """A worker prints its result as the last line of its output, as JSON."""
    return json.loads(stdout.strip().splitlines()[-1])
