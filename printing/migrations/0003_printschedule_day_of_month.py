import django.core.validators
from django.db import migrations, models
from django.utils import timezone


def day_of_next_run(apps, schema_editor):
    # The best record of the lead's day is the next run's local day. A schedule already
    # pulled down to the 28th by the old arithmetic stays there until the lead resets it.
    PrintSchedule = apps.get_model("printing", "PrintSchedule")
    zone = timezone.get_default_timezone()
    for schedule in PrintSchedule.objects.all():
        schedule.day_of_month = timezone.localtime(schedule.next_run_at, zone).day
        schedule.save(update_fields=["day_of_month"])


class Migration(migrations.Migration):
    dependencies = [
        ("printing", "0002_edition_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="printschedule",
            name="day_of_month",
            field=models.PositiveSmallIntegerField(
                default=1,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(31),
                ],
            ),
            preserve_default=False,
        ),
        migrations.RunPython(day_of_next_run, migrations.RunPython.noop),
    ]
