"""The supervisor behind `manage.py serve`, with small stand-in programs."""

import sys
import time

import pytest

from ops.supervisor import GaveUp, Program, supervise


def test_a_program_that_keeps_dying_at_start_stops_the_stack(monkeypatch):
    monkeypatch.setattr("ops.supervisor.GIVE_UP_AFTER", 3)
    broken = Program("web", [sys.executable, "-c", "raise SystemExit(3)"])
    healthy = Program("worker", [sys.executable, "-c", "import time; time.sleep(60)"])
    started = time.monotonic()
    with pytest.raises(GaveUp, match="web exited 3 times"):
        supervise([broken, healthy], poll=0.05)
    assert time.monotonic() - started < 20  # back-off 1 s, 2 s, then give up
    assert healthy.process.poll() is not None  # the others are stopped too
