from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, counts_now, restore


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty data directory (LANBITOU_DATA_DIR / DATABASE_URL): "
        "refuses damaged or mismatched archives; migrates, rebuilds the search index, then "
        "runs check_trees and check_index."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="archive written by `manage.py backup`")

    def handle(self, *args, path: str, **options):
        try:
            manifest = restore(path=path)
        except BackupError as exc:
            raise CommandError(f"Not restored: {exc}") from exc
        self.stdout.write(f"Restored the backup of {manifest['created_at']}; migrating…")
        call_command("migrate", verbosity=0, interactive=False)
        restored = counts_now()
        if restored != manifest["counts"]:
            raise CommandError(f"Counts differ: backup {manifest['counts']}, now {restored}")
        self.stdout.write("Rebuilding the search index…")
        call_command("rebuild_index", stdout=self.stdout)
        call_command("check_trees", stdout=self.stdout, stderr=self.stderr)
        call_command("check_index", stdout=self.stdout)
        counts = ", ".join(f"{n} {what}" for what, n in restored.items())
        self.stdout.write(self.style.SUCCESS(f"Restored {counts}."))
