"""Per-character counts (``search_count``) for one-character queries, a team's rows newest
first, and title codes in the rows' gram arrays: rows written before have neither codes
nor counts, so they go, and ``serve`` (or ``rebuild_index``) builds the table again.
SQLite has no such tables."""

from importlib import import_module

from django.db import migrations, models

OnPostgresOnly = import_module("search.migrations.0001_search_entry").OnPostgresOnly


def empty_the_table(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("TRUNCATE search_entry")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_codes_v2")]

    operations = [
        OnPostgresOnly(
            migrations.CreateModel(
                name="SearchCount",
                fields=[
                    ("pk", models.CompositePrimaryKey("team_id", "code", "owner_id", "manual_id",
                                                      "access", blank=True, editable=False,
                                                      primary_key=True, serialize=False)),
                    ("team_id", models.BigIntegerField()),
                    ("code", models.IntegerField()),
                    ("owner_id", models.BigIntegerField()),
                    ("manual_id", models.BigIntegerField()),
                    ("access", models.SmallIntegerField()),
                    ("n", models.IntegerField()),
                    ("n_title", models.IntegerField()),
                ],
                options={
                    "db_table": "search_count",
                    "indexes": [
                        models.Index(fields=["manual_id"], name="search_count_manual"),
                        models.Index(fields=["team_id", "code"], name="search_count_cover",
                                     include=["owner_id", "manual_id", "access", "n",
                                              "n_title"]),
                    ],  # fmt: skip
                },
            )
        ),
        OnPostgresOnly(
            migrations.AddIndex(
                model_name="searchentry",
                index=models.Index(fields=["team_id", "-updated", "section_id"],
                                   name="search_entry_recent"),
            )
        ),
        migrations.RunPython(empty_the_table, migrations.RunPython.noop),
    ]
