"""The PostgreSQL engine's rows gained codes (ASCII 4- and 5-grams, whole words): rows
written before lack them and would be missed, so they go, and ``serve`` (or
``rebuild_index``) builds the table again. SQLite has no such table."""

from django.db import migrations


def empty_the_table(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("TRUNCATE search_entry")


class Migration(migrations.Migration):
    dependencies = [("search", "0001_search_entry")]

    operations = [migrations.RunPython(empty_the_table, migrations.RunPython.noop)]
