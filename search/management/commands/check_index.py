from django.core.management.base import BaseCommand, CommandError

from search import backends


class Command(BaseCommand):
    help = "Compare the search index with the database; exits non-zero when they disagree."

    def handle(self, *args, **options):
        try:
            drift = backends.current().check()
        except backends.Unavailable as exc:
            raise CommandError(
                f"The search index cannot be opened ({exc}); run rebuild_index."
            ) from exc
        for label, ids in (
            ("missing from the index", drift.missing),
            ("in the index but not searchable", drift.extra),
            ("indexed with out-of-date content", drift.stale),
        ):
            if ids:
                shown = ", ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else "")
                self.stdout.write(f"{len(ids)} sections {label}: {shown}")
        if drift.counts:
            self.stdout.write(f"{drift.counts} character counts disagree with the index rows")
        if not drift.ok:
            raise CommandError("The search index has drifted from the database; run rebuild_index.")
        self.stdout.write(self.style.SUCCESS("The search index matches the database."))
