"""One OS process of the PostgreSQL print-request race (tests/printing/test_print_race.py).

python -m tests.printing.print_worker setup
python -m tests.printing.print_worker request START_AT
python -m tests.printing.print_worker run EDITION_ID START_AT
"""

from __future__ import annotations

import json
import os
import sys
import time


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _wait(start_at: str) -> None:
    time.sleep(max(0.0, float(start_at) - time.time()))


def setup() -> dict:
    from django.contrib.auth import get_user_model

    from manuals.models import Member, Team
    from manuals.tree import SectionContent, add_section, create_manual

    team = Team.objects.create(name="打印竞争组")
    user = get_user_model().objects.create_user("pg-printer", password="x")
    Member.objects.create(user=user, team=team)
    manual = create_manual(owner=user, title="竞争手册")
    add_section(manual=manual, content=SectionContent(title="第一章", body="<p>内容</p>"))
    return {"manual_id": manual.pk, "user_id": user.pk}


def request(start_at: str) -> dict:
    from django.contrib.auth import get_user_model

    from manuals.models import Manual
    from printing.booklet import BookletOptions
    from printing.jobs import request_edition

    manual = Manual.objects.get(title="竞争手册")
    user = get_user_model().objects.get(username="pg-printer")
    _wait(start_at)
    edition, created = request_edition(manual=manual, user=user, options=BookletOptions())
    return {"edition_id": edition.pk, "created": created}


def run(edition_id: str, start_at: str) -> dict:
    from printing.jobs import run_edition

    _wait(start_at)
    return {"outcome": run_edition(edition_id=int(edition_id))}


if __name__ == "__main__":
    _django()
    command, *args = sys.argv[1:]
    result = {"setup": setup, "request": request, "run": run}[command](*args)
    print(json.dumps(result))
