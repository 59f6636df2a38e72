from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from manuals.documents.importing import import_document, read_document
from manuals.documents.types import ImportRefused
from manuals.models import member_of


class Command(BaseCommand):
    help = "Import a .docx, a Markdown file (or .zip with pictures) or a Lanbitou archive as a "
    help += "new manual; prints the new manual's id."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--owner", required=True, help="username of the new manual's owner")
        parser.add_argument("--title", help="title of the new manual (default: the document's)")

    def handle(self, *args, path: Path, owner: str, title: str | None, **options):
        try:
            user = get_user_model().objects.get(username=owner)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {owner!r}") from None
        if member_of(user) is None:
            raise CommandError(f"user {owner!r} is not in a team; add them to one first")
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            parsed = read_document(path, local_images=True)
            manual = import_document(parsed=parsed, owner=user, title=title)
        except ImportRefused as refused:
            raise CommandError(str(refused)) from refused
        for warning in parsed.warnings:
            self.stderr.write(warning)
        self.stdout.write(str(manual.pk))
