import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ops.setup import first_run_demo, one_node_at_a_time, prepare_data_dir
from ops.supervisor import GaveUp, Program, supervise

# Three workers: a long print run or import never holds up index updates, and the search
# worker polls often (an edit is searchable about SEARCH_POLL seconds after it commits).
WORKER_QUEUES = ["search", "default,imports", "printing"]
SEARCH_POLL = "0.2"
PRINT_NICENESS = 10


class Command(BaseCommand):
    help = (
        "Run the whole site: gunicorn with several workers (static files by whitenoise) and "
        "the three background workers, restarted if they die; Ctrl+C stops all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to listen on")
        parser.add_argument("--web-workers", type=int, help="gunicorn processes (CPUs + 1)")
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="Do not load the demo team on a first run (an empty database).",
        )
        parser.add_argument(
            "--web-only",
            action="store_true",
            help="Only gunicorn, no workers: a web node of several (run_worker runs elsewhere).",
        )

    def handle(
        self, *args, bind: str, web_workers: int | None, no_demo: bool, web_only: bool, **options
    ):
        with one_node_at_a_time():
            prepare_data_dir(stdout=self.stdout)
            if not no_demo:
                first_run_demo(stdout=self.stdout)
        python = sys.executable
        web = [python, "-m", "gunicorn", "config.wsgi:application"]
        web += ["-c", str(settings.BASE_DIR / "config" / "gunicorn.py"), "--bind", bind]
        web += ["--chdir", str(settings.BASE_DIR)]
        if web_workers:
            web += ["--workers", str(web_workers)]
        manage = str(settings.BASE_DIR / "manage.py")
        programs = [Program("web", web)]
        queues_here = [] if web_only else WORKER_QUEUES
        for queues in queues_here:
            command = [python, manage, "run_worker", queues]
            if queues == "search":
                command += ["--interval", SEARCH_POLL]
            programs.append(Program(f"worker {queues}", command))
        workers = "; ".join(queues_here) or "none here"
        self.stdout.write(f"Lanbitou on http://{bind}/  (workers: {workers})")
        self.stdout.write("Ctrl+C stops all.")
        self.stdout.flush()
        try:
            supervise(programs)
        except GaveUp as exc:
            raise CommandError(f"{exc}; everything stopped (see the log above)") from exc
