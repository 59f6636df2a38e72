"""The PostgreSQL engine's index: one row per live, non-root section (``search.pg_engine``).

On SQLite the table is not created (see the migration): the Whoosh engine is used there.
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models


class SearchEntry(models.Model):
    """What a search needs of a section, so a query never joins the manuals' tables."""

    section_id = models.BigIntegerField(primary_key=True)
    manual_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    team_id = models.BigIntegerField()
    kind = models.SmallIntegerField()  # search.index.KIND_CODES
    access = models.SmallIntegerField()  # search.index.ACCESS_* bits
    updated = models.BigIntegerField()  # epoch seconds
    title = models.TextField()
    text = models.TextField()  # the visible text, for snippets
    folded = models.TextField()  # fold(title + "\n" + text): what strpos verifies
    folded_title = models.TextField()  # fold(title): terms found in the title rank first
    # Distinct codes of every 1- and 2-character gram of ``folded``, its ASCII 3- to
    # 5-grams, whole words and title characters (search.pg_engine.gram_codes): candidates
    # are rows containing a query's codes.
    grams = ArrayField(models.BigIntegerField())

    class Meta:
        db_table = "search_entry"
        indexes = [
            GinIndex(fields=["grams"], name="search_entry_grams"),
            models.Index(fields=["team_id", "owner_id"], name="search_entry_team"),
            models.Index(fields=["manual_id"], name="search_entry_manual"),
            # A team's rows newest first: a common character's first page is the first
            # hits of this walk, without collecting its tens of thousands of hits. With
            # what the walk tests of a row (readable, filters, title): a title hit is
            # found in the index alone (0.3 ms instead of 1.9 for 850 rows read).
            models.Index(
                fields=["team_id", "-updated", "section_id"],
                name="search_entry_recent",
                include=["access", "owner_id", "manual_id", "folded_title"],
            ),
        ]

    def __str__(self) -> str:
        return f"search entry of section {self.section_id}"


class SearchCount(models.Model):
    """How many of the rows with one (team, owner, manual, access) hold one character:
    a one-character query's total and per-agent and per-manual counts, read from a few
    hundred rows instead of counting its tens of thousands of hits.

    ``code`` is the character's code point (``ALL_SECTIONS``: every row, held or not);
    ``n_title`` counts the rows whose title holds it. ``search.pg_engine`` keeps the
    counts in step with ``search_entry`` in the same transaction as each write."""

    pk = models.CompositePrimaryKey("team_id", "code", "owner_id", "manual_id", "access")
    team_id = models.BigIntegerField()
    code = models.IntegerField()
    owner_id = models.BigIntegerField()
    manual_id = models.BigIntegerField()
    access = models.SmallIntegerField()
    n = models.IntegerField()
    n_title = models.IntegerField()

    ALL_SECTIONS = -1

    class Meta:
        db_table = "search_count"
        indexes = [
            models.Index(fields=["manual_id"], name="search_count_manual"),
            # A character's counts in a team from a few index pages (an index-only scan),
            # not one table page each.
            models.Index(fields=["team_id", "code"], name="search_count_cover",
                         include=["owner_id", "manual_id", "access", "n", "n_title"]),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.n} sections of manual {self.manual_id} hold {self.code}"
