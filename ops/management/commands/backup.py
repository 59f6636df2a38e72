from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Write one archive of the database (a consistent copy taken while the site runs), "
        "pictures and printed editions, with a manifest of counts and checksums."
    )

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", required=True, help="archive to write (.zip)")

    def handle(self, *args, output: str, **options):
        try:
            report = backup(output=output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{n} {what}" for what, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Backed up {counts}; {report.files} files"))
        self.stdout.write(str(report.path))
