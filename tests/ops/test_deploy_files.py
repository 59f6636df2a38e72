"""deploy/ holds what an admin copies: its units must name real commands and each other."""

import re
from pathlib import Path

from django.core.management import get_commands

from ops.management.commands.serve import WORKER_QUEUES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def units() -> dict[str, str]:
    kinds = {".service", ".timer", ".target"}
    return {p.name: p.read_text() for p in DEPLOY.iterdir() if p.suffix in kinds}


def test_every_manage_command_in_the_units_exists():
    used = {
        match
        for text in units().values()
        for match in re.findall(r"manage\.py (\w+)", text)
    }  # fmt: skip
    assert used and used <= set(get_commands())


def test_the_target_starts_units_that_ship_and_the_workers_cover_every_queue_as_serve_does():
    wanted = re.findall(r"^Wants=(.*)$", units()["lanbitou.target"], re.M)
    names = {name for line in wanted for name in line.split()}
    assert names <= set(units())
    worker_queues = {
        match
        for text in units().values()
        for match in re.findall(r"manage\.py run_worker (\S+)", text)
    }  # fmt: skip
    assert worker_queues == set(WORKER_QUEUES)


def test_nginx_passes_the_scheme_and_host_that_lanbitou_https_relies_on():
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header Host $host;" in conf
