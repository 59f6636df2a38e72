from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from manuals.models import Manual


class Command(BaseCommand):
    help = "Export a manual as a lossless archive, a .docx or Markdown (.md, or .zip when the "
    help += "path ends in .zip; pictures of a .md go to a PATH.assets folder beside it)."

    def add_arguments(self, parser):
        parser.add_argument("manual_id", type=int)
        parser.add_argument("--format", required=True, choices=["archive", "docx", "md"])
        parser.add_argument("-o", "--output", required=True, type=Path)

    def handle(self, *args, manual_id: int, format: str, output: Path, **options):
        from manuals.documents.archive import export_archive
        from manuals.documents.docx_export import export_docx
        from manuals.documents.markdown import export_markdown, export_markdown_zip

        try:
            manual = Manual.objects.get(pk=manual_id)
        except Manual.DoesNotExist:
            raise CommandError(f"no manual with id {manual_id}") from None
        if format == "archive":
            output.write_bytes(export_archive(manual=manual))
        elif format == "docx":
            output.write_bytes(export_docx(manual=manual))
        elif output.suffix.lower() == ".zip":
            output.write_bytes(export_markdown_zip(manual=manual))
        else:
            assets = output.name + ".assets"
            text, files = export_markdown(manual=manual, assets=assets)
            output.write_text(text, encoding="utf-8")
            for relative, data in files.items():
                target = output.parent / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        self.stdout.write(str(output))
