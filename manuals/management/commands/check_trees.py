from django.core.management.base import BaseCommand, CommandError

from manuals.integrity import check_trees


class Command(BaseCommand):
    help = "Verify every manual's section tree; exits non-zero if any tree is corrupt."

    def handle(self, *args, **options):
        problems = check_trees()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found in the section trees")
        self.stdout.write(self.style.SUCCESS("All trees are intact."))
