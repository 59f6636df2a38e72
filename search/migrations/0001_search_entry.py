import django.contrib.postgres.fields
import django.contrib.postgres.indexes
from django.db import migrations, models


class OnPostgresOnly(migrations.operations.base.Operation):
    """Run the wrapped operation's SQL on PostgreSQL only (state changes everywhere):
    SQLite has no arrays nor GIN indexes, and the Whoosh engine serves search there."""

    reduces_to_sql = False
    reversible = True

    def __init__(self, operation):
        self.operation = operation

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.operation], {})

    def state_forwards(self, app_label, state):
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"{self.operation.describe()} (PostgreSQL only)"


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        OnPostgresOnly(
            migrations.CreateModel(
                name="SearchEntry",
                fields=[
                    ("section_id", models.BigIntegerField(primary_key=True, serialize=False)),
                    ("manual_id", models.BigIntegerField()),
                    ("owner_id", models.BigIntegerField()),
                    ("team_id", models.BigIntegerField()),
                    ("kind", models.SmallIntegerField()),
                    ("access", models.SmallIntegerField()),
                    ("updated", models.BigIntegerField()),
                    ("title", models.TextField()),
                    ("text", models.TextField()),
                    ("folded", models.TextField()),
                    ("folded_title", models.TextField()),
                    (
                        "grams",
                        django.contrib.postgres.fields.ArrayField(
                            base_field=models.BigIntegerField(), size=None
                        ),
                    ),
                ],
                options={
                    "db_table": "search_entry",
                    "indexes": [
                        django.contrib.postgres.indexes.GinIndex(
                            fields=["grams"], name="search_entry_grams"
                        ),
                        models.Index(fields=["team_id", "owner_id"], name="search_entry_team"),
                        models.Index(fields=["manual_id"], name="search_entry_manual"),
                    ],
                },
            )
        ),
        # Narrow rows: the texts and gram arrays live out of line (TOAST), so a query that
        # reads thousands of candidates' small columns touches few pages; the arrays are
        # stored uncompressed (a query never reads them: the GIN index answers).
        OnPostgresOnly(
            migrations.RunSQL(
                "ALTER TABLE search_entry SET (toast_tuple_target = 256);"
                "ALTER TABLE search_entry ALTER COLUMN grams SET STORAGE EXTERNAL;",
                "ALTER TABLE search_entry RESET (toast_tuple_target);"
                "ALTER TABLE search_entry ALTER COLUMN grams SET STORAGE EXTENDED;",
            )
        ),
    ]
