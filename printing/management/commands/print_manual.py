from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from manuals.models import Manual
from printing.booklet import PAPERS, BookletOptions, PrintError, assemble_booklet
from printing.render import render_booklet_pdf
from printing.theming import available_themes


class Command(BaseCommand):
    help = "Render a manual as a PDF booklet now, in the foreground (all sections, as its owner)."
    # Only the printing checks (fonts, subsetting): the others would import every URL
    # module and view, most of a second of each print's start.
    requires_system_checks = ["printing"]

    def add_arguments(self, parser):
        parser.add_argument("manual_id", type=int)
        parser.add_argument("-o", "--output", required=True, help="where to write the PDF")
        parser.add_argument("--theme", default="plain", choices=sorted(available_themes()))
        parser.add_argument("--paper", default="A5", choices=sorted(PAPERS))
        parser.add_argument("--scope", default="all", choices=["all", "shared"])
        parser.add_argument("--subtree", type=int, default=None, help="only this section")
        parser.add_argument("--title", default="", help="edition title (default: manual title)")
        parser.add_argument("--image-style", default="", help="none, ink-wash, sepia, …")
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of the contents page and chapter labels",
        )

    def handle(self, *args, **opts):
        manual = Manual.objects.filter(pk=opts["manual_id"]).first()
        if manual is None:
            raise CommandError(f"No manual with id {opts['manual_id']}")
        options = BookletOptions(
            theme=opts["theme"],
            paper=opts["paper"],
            scope=opts["scope"],
            subtree_id=opts["subtree"],
            title=opts["title"],
            image_style=opts["image_style"],
        )
        try:
            booklet = assemble_booklet(manual=manual, options=options, language=opts["language"])
            result = render_booklet_pdf(booklet=booklet, out_path=Path(opts["output"]))
        except PrintError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{result.path}: {result.page_count} pages, {result.size_bytes // 1024} KB, "
            f"{result.seconds:.1f} s ({result.chapters_rendered} chapters rendered, "
            f"{result.chapters_cached} from cache, {result.pages_kept} pages kept; "
            + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
            + ")"
        )
