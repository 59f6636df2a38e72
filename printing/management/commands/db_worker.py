"""django_tasks_db's ``db_worker``, plus recovery of the jobs of workers that died.

Here rather than in manuals/ because printing/ is the one app that may import every feature
whose tasks it recovers (printing and imports). settings.INSTALLED_APPS lists
django_tasks_db after printing so that this command is the one ``manage.py`` runs.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands import db_worker

from manuals.documents.jobs import recover_abandoned_imports
from manuals.workers import current_worker_id
from printing.jobs import recover_abandoned_editions, warm_render_process

log = logging.getLogger(__name__)


def recover_abandoned_jobs() -> int:
    """Fail every job (edition, import) whose worker is gone; returns how many."""
    return recover_abandoned_editions() + recover_abandoned_imports()


def _recover_periodically(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            recover_abandoned_jobs()
        except Exception:  # a locked database, a network blip: try again next round
            log.exception("Recovering abandoned jobs failed")
        finally:
            connection.close()


def _prints(options: dict) -> bool:
    """Whether this worker takes print jobs (its --queue-name and --exclude-queues)."""
    queues = (options.get("queue_name") or "default").split(",")
    excluded = (options.get("exclude_queues") or "").split(",")
    return ("*" in queues or "printing" in queues) and "printing" not in excluded


class Command(db_worker.Command):
    help = (
        "Run a database background worker; when it starts and every few minutes it fails "
        "the jobs of workers that died (with the reason) and removes their files."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # host:pid:start lets any process on this host tell that this worker died.
        parser.set_defaults(worker_id=current_worker_id())

    def handle(self, *args, **options):
        recovered = recover_abandoned_jobs()
        if recovered:
            log.warning("Failed %d job(s) whose worker had stopped", recovered)
        if not options.get("batch"):  # a batch run drains the queue and exits
            interval = getattr(settings, "LANBITOU_RECOVER_EVERY", 60)
            threading.Thread(target=_recover_periodically, args=(interval,), daemon=True).start()
            # Not in the autoreloader's watching process (--reload), which never prints.
            if _prints(options) and (not options.get("reload") or os.environ.get("RUN_MAIN")):
                warm_render_process()  # the first edition need not wait for one to start
        return super().handle(*args, **options)
