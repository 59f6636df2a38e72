from django.db import migrations

KINDS = ["rule", "retrospective", "project", "tool", "note"]
VISIBILITIES = ["private", "lead", "shared"]


def tidy_unknown_values(apps, schema_editor):
    """Rows written before the constraints (a crafted archive could store any string):
    an unknown kind becomes a note, an unknown visibility private."""
    for name in ("Section", "Revision"):
        model = apps.get_model("manuals", name)
        model.objects.exclude(kind__in=KINDS).update(kind="note")
        model.objects.exclude(visibility__in=VISIBILITIES).update(visibility="private")



class Migration(migrations.Migration):
    # Its own migration (transaction): PostgreSQL refuses to add the constraints of 0009 in
    # a transaction that still has deferred checks pending from these updates.
    dependencies = [("manuals", "0007_manual_root_restrict")]

    operations = [migrations.RunPython(tidy_unknown_values, migrations.RunPython.noop)]
