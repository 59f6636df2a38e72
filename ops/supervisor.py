"""The stack ``manage.py serve`` runs: web server and workers as child processes, each
restarted when it dies, all stopped together on Ctrl+C or SIGTERM."""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
STOP_TIMEOUT = 20  # seconds a child gets to finish its request or task
GIVE_UP_AFTER = 5  # deaths in a row within seconds of starting: it will not come up


class GaveUp(Exception):
    """A program kept dying right after starting (port taken, bad settings)."""


@dataclass
class Program:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float = field(default=0.0)


def _die_with_parent() -> None:
    # A supervisor killed with SIGKILL must not leave its children serving on.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(program: Program) -> None:
    # Own process group: the terminal's Ctrl+C reaches only the supervisor, which stops
    # each child once (a second signal would make a worker abandon its running task).
    program.process = subprocess.Popen(program.argv, process_group=0, preexec_fn=_die_with_parent)
    program.started_at = time.monotonic()
    log.info("started %s (pid %s)", program.name, program.process.pid)


def supervise(programs: list[Program], *, poll: float = 0.5) -> None:
    stopping = []

    def stop(signum, frame):
        stopping.append(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for program in programs:
            _start(program)
        while not stopping:
            now = time.monotonic()
            for program in programs:
                if program.process is None:
                    if now >= program.restart_at:
                        _start(program)
                    continue
                code = program.process.poll()
                if code is None:
                    continue
                # Back off when a program keeps dying at start (bad config, port taken).
                lived = now - program.started_at
                program.quick_deaths = program.quick_deaths + 1 if lived < 10 else 0
                if program.quick_deaths >= GIVE_UP_AFTER:
                    raise GaveUp(
                        f"{program.name} exited {GIVE_UP_AFTER} times right after starting"
                    )
                delay = min(30, 2 ** (program.quick_deaths - 1)) if program.quick_deaths else 0
                log.error("%s exited with %s; restarting in %ss", program.name, code, delay)
                program.process = None
                program.restart_at = now + delay
            time.sleep(poll)
    finally:
        _stop_all(programs)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_all(programs: list[Program]) -> None:
    running = [p for p in programs if p.process is not None and p.process.poll() is None]
    for program in running:
        program.process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for program in running:
        try:
            program.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("%s did not stop in %ss; killing it", program.name, STOP_TIMEOUT)
            program.process.kill()
            program.process.wait()
    log.info("stopped")
