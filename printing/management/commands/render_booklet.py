import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from printing.booklet import PrintError
from printing.jobs import limit_memory, render_spec


class Command(BaseCommand):
    help = "Internal: render a booklet prepared by a print job (runs in its own process)."

    def add_arguments(self, parser):
        parser.add_argument("spec", type=Path)
        parser.add_argument("--memory-mb", type=int, default=0)

    def handle(self, *args, **opts):
        def emit(message: dict) -> None:
            sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
            sys.stdout.flush()

        if opts["memory_mb"]:
            limit_memory(opts["memory_mb"])
        try:
            render_spec(opts["spec"], emit)
        except PrintError as error:
            emit({"error": str(error)})
