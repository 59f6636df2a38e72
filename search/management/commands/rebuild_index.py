from django.core.management.base import BaseCommand

from search import backends


class Command(BaseCommand):
    help = "Rebuild the search index from the database (search keeps working meanwhile)."

    def handle(self, *args, **options):
        def progress(done: int, total: int) -> None:
            percent = 100 * done // total if total else 100
            self.stdout.write(f"{done}/{total} sections ({percent}%)")
            self.stdout.flush()

        engine = backends.current()
        report = engine.rebuild(progress=progress)
        rate = report.sections / report.seconds if report.seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {report.sections} sections in {report.seconds:.1f} s "
                f"({rate:.0f} sections/s) into {engine.where()}"
            )
        )
