from django.core.management.base import BaseCommand

from printing.jobs import run_due_schedules


class Command(BaseCommand):
    help = "Queue the print runs whose team schedule is due (run it from cron, e.g. hourly)."

    def handle(self, *args, **opts):
        queued = run_due_schedules()
        for edition in queued:
            self.stdout.write(f"queued edition {edition.pk} of manual {edition.manual_id}")
        self.stdout.write(f"{len(queued)} edition(s) queued")
