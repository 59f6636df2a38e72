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
    # Distinct codes of every 1- and 2-character gram of ``folded`` and its ASCII 3-grams
    # (search.pg_engine.gram_codes): candidates are rows containing a query's codes.
    grams = ArrayField(models.BigIntegerField())

    class Meta:
        db_table = "search_entry"
        indexes = [
            GinIndex(fields=["grams"], name="search_entry_grams"),
            models.Index(fields=["team_id", "owner_id"], name="search_entry_team"),
            models.Index(fields=["manual_id"], name="search_entry_manual"),
        ]

    def __str__(self) -> str:
        return f"search entry of section {self.section_id}"
