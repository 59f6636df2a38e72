import os
import socket
import threading
from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from ops.health import BEAT_SECONDS
from ops.models import WorkerBeat


class Command(BaseCommand):
    help = (
        "Run a background worker (django-tasks' db_worker) on QUEUES and record that it is "
        "alive every few seconds, for /healthz."
    )

    def add_arguments(self, parser):
        parser.add_argument("queues", help="Comma-separated queue names, e.g. default,search")
        parser.add_argument(
            "--interval", type=float, default=1.0,
            help="Seconds between looks at an empty queue (default 1; the search worker 0.2)",
        )  # fmt: skip

    def handle(self, *args, queues: str, interval: float = 1.0, **options):
        worker = f"{socket.gethostname()}:{os.getpid()}"
        # Beats of workers killed without a goodbye (SIGKILL, power loss) fade out.
        WorkerBeat.objects.filter(seen_at__lt=timezone.now() - timedelta(days=1)).delete()
        stop = threading.Event()
        beat = threading.Thread(target=_beat, args=(worker, queues, stop), daemon=True)
        beat.start()
        try:
            call_command(
                "db_worker", queue_name=queues, interval=interval, reload=False, verbosity=1
            )
        finally:
            stop.set()
            beat.join(timeout=5)
            WorkerBeat.objects.filter(worker=worker).delete()


def _beat(worker: str, queues: str, stop: threading.Event) -> None:
    try:
        while True:
            try:
                WorkerBeat.objects.update_or_create(
                    worker=worker, defaults={"queues": queues, "seen_at": timezone.now()}
                )
            except Exception:  # a busy or restarting database: the next beat tries again
                connection.close()
            if stop.wait(BEAT_SECONDS):
                return
    finally:
        connection.close()
