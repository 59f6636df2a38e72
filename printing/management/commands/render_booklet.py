import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from printing.booklet import PrintError
from printing.chapters import collect_less, die_with_parent
from printing.jobs import limit_memory, render_spec
from printing.render import warm_up


class Command(BaseCommand):
    help = "Internal: render a booklet prepared by a print job (runs in its own process)."
    # Only the printing checks (fonts, subsetting): the others would import every URL
    # module and view, most of a second of each print's start.
    requires_system_checks = ["printing"]

    def add_arguments(self, parser):
        parser.add_argument("spec", help="the pickled booklet: a file, or - for stdin")
        parser.add_argument("--memory-mb", type=int, default=0)
        parser.add_argument("--parent-pid", type=int, default=0, help="die with this process")
        parser.add_argument(
            "--warm", action="store_true",
            help="load WeasyPrint and the fonts before reading the booklet (a spare process)",
        )  # fmt: skip

    def handle(self, *args, **opts):
        def emit(message: dict) -> None:
            sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
            sys.stdout.flush()

        if opts["parent_pid"]:
            die_with_parent(opts["parent_pid"])
        if opts["memory_mb"]:
            limit_memory(opts["memory_mb"])
        if opts["warm"]:
            warm_up()
        collect_less()  # it sets chapters itself (printing.render._in_lanes)
        if opts["warm"]:
            emit({"ready": True})
        if opts["spec"] == "-":
            spec = sys.stdin.buffer.read()
        else:
            spec = Path(opts["spec"]).read_bytes()
        try:
            render_spec(spec, emit)
        except PrintError as error:
            emit({"error": str(error)})
