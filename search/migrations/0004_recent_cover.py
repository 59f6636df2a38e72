"""The walk of a team's newest rows (one-character pages) reads what it tests of a row from
the index ``search_entry_recent``: access, owner, manual and folded title."""

from importlib import import_module

from django.db import migrations, models

OnPostgresOnly = import_module("search.migrations.0001_search_entry").OnPostgresOnly


class Migration(migrations.Migration):
    dependencies = [("search", "0003_counts")]

    operations = [
        OnPostgresOnly(
            migrations.RemoveIndex(model_name="searchentry", name="search_entry_recent")
        ),
        OnPostgresOnly(
            migrations.AddIndex(
                model_name="searchentry",
                index=models.Index(
                    fields=["team_id", "-updated", "section_id"],
                    name="search_entry_recent",
                    include=["access", "owner_id", "manual_id", "folded_title"],
                ),
            )
        ),
    ]
