"""A throwaway OpenLDAP server (Debian's ``slapd``) for the directory-login tests.

A minimal slapd.conf (mdb backend, core/cosine/inetorgperson schemas) in a temporary
directory, listening on a free loopback port; entries are added with python-ldap.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUFFIX = "dc=lanbitou,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "slapd-admin-pw"
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"


@dataclass(frozen=True)
class Directory:
    uri: str
    suffix: str = SUFFIX
    admin_dn: str = ADMIN_DN
    admin_password: str = ADMIN_PASSWORD

    def add(self, dn: str, **attributes: list[str] | str) -> None:
        import ldap
        import ldap.modlist

        entry = {
            key: [v.encode() for v in ([value] if isinstance(value, str) else value)]
            for key, value in attributes.items()
        }
        connection = ldap.initialize(self.uri)
        try:
            connection.simple_bind_s(self.admin_dn, self.admin_password)
            connection.add_s(dn, ldap.modlist.addModlist(entry))
        finally:
            connection.unbind_s()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slapd_available() -> bool:
    return Path(SLAPD).exists()


@contextlib.contextmanager
def running_slapd() -> Iterator[Directory]:
    tmp = Path(tempfile.mkdtemp(prefix="lanbitou-slapd-"))
    (tmp / "db").mkdir()
    schemas = "\n".join(
        f"include /etc/ldap/schema/{name}.schema" for name in ("core", "cosine", "inetorgperson")
    )
    (tmp / "slapd.conf").write_text(
        f"""{schemas}
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {tmp}/slapd.pid
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {tmp}/db
"""
    )
    port = _free_port()
    uri = f"ldap://127.0.0.1:{port}"
    # -d 0: stay in the foreground (we own the process) without debug output.
    process = subprocess.Popen(
        [SLAPD, "-f", str(tmp / "slapd.conf"), "-h", uri + "/", "-d", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        directory = Directory(uri=uri)
        deadline = time.monotonic() + 30
        while True:
            try:
                directory.add(
                    SUFFIX, objectClass=["dcObject", "organization"], dc="lanbitou", o="Lanbitou"
                )
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = (
                        process.stdout.read().decode(errors="replace") if process.stdout else ""
                    )
                    raise RuntimeError(f"slapd did not start:\n{output}") from None
                time.sleep(0.2)
        for ou in ("people", "groups"):
            directory.add(f"ou={ou},{SUFFIX}", objectClass="organizationalUnit", ou=ou)
        yield directory
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(tmp, ignore_errors=True)
