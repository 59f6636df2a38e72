"""Team print schedules: the next run keeps the lead's day of month, in the site's time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from printing.jobs import run_due_schedules
from printing.models import PrintSchedule
from tests.conftest import PASSWORD, sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


def schedule_from(team, every: str, first: datetime) -> PrintSchedule:
    schedule = PrintSchedule(team=team, every=every)
    schedule.run_next_at(first)
    schedule.save()
    return PrintSchedule.objects.get(pk=schedule.pk)  # next_run_at as the database gives it


def local_runs(schedule: PrintSchedule, count: int) -> list[str]:
    """The local date and time of this many runs after the first."""
    runs = []
    for _ in range(count):
        schedule.next_run_at = schedule.following(schedule.next_run_at)
        runs.append(f"{timezone.localtime(schedule.next_run_at):%Y-%m-%d %H:%M}")
    return runs


def test_a_run_on_the_first_just_after_midnight_stays_on_the_first(team):
    # 00:30 in Shanghai on the 1st is still the previous day (the 31st) in UTC.
    schedule = schedule_from(team, "month", datetime(2025, 1, 1, 0, 30, tzinfo=SHANGHAI))
    assert local_runs(schedule, 3) == ["2025-02-01 00:30", "2025-03-01 00:30", "2025-04-01 00:30"]


def test_print_due_moves_a_just_after_midnight_schedule_to_the_next_first(team):
    schedule = schedule_from(team, "month", datetime(2025, 1, 1, 0, 30, tzinfo=SHANGHAI))
    run_due_schedules(now=datetime(2025, 1, 1, 1, 0, tzinfo=SHANGHAI))
    schedule.refresh_from_db()
    assert timezone.localtime(schedule.next_run_at) == datetime(2025, 2, 1, 0, 30, tzinfo=SHANGHAI)
    assert schedule.last_run_at == datetime(2025, 1, 1, 1, 0, tzinfo=SHANGHAI)


def test_day_31_falls_on_each_short_months_last_day_and_comes_back_to_31(team):
    schedule = schedule_from(team, "month", datetime(2025, 1, 31, 9, 0, tzinfo=SHANGHAI))
    days = [run[:10] for run in local_runs(schedule, 12)]
    assert days == [
        "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30", "2025-07-31",
        "2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31", "2026-01-31",
    ]  # fmt: skip


def test_a_leap_february_has_its_29th(team):
    schedule = schedule_from(team, "month", datetime(2024, 1, 30, 9, 0, tzinfo=SHANGHAI))
    assert local_runs(schedule, 2) == ["2024-02-29 09:00", "2024-03-30 09:00"]


def test_quarter_half_year_and_year_steps_keep_the_day(team, other_team):
    quarterly = schedule_from(team, "quarter", datetime(2024, 11, 30, 9, 0, tzinfo=SHANGHAI))
    assert [r[:10] for r in local_runs(quarterly, 4)] == [
        "2025-02-28",
        "2025-05-30",
        "2025-08-30",
        "2025-11-30",
    ]
    quarterly.delete()
    half_yearly = schedule_from(team, "half-year", datetime(2023, 8, 31, 9, 0, tzinfo=SHANGHAI))
    half_years = [r[:10] for r in local_runs(half_yearly, 3)]
    assert half_years == ["2024-02-29", "2024-08-31", "2025-02-28"]
    yearly = schedule_from(other_team, "year", datetime(2024, 2, 29, 9, 0, tzinfo=SHANGHAI))
    assert [r[:10] for r in local_runs(yearly, 4)] == [
        "2025-02-28",
        "2026-02-28",
        "2027-02-28",
        "2028-02-29",
    ]


def test_the_local_time_of_day_holds_across_a_daylight_saving_change(team, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    schedule = schedule_from(team, "quarter", datetime(2025, 1, 15, 9, 0, tzinfo=berlin))
    assert local_runs(schedule, 2) == ["2025-04-15 09:00", "2025-07-15 09:00"]


def test_a_run_long_overdue_goes_to_the_first_date_still_ahead(team):
    schedule = schedule_from(team, "month", datetime(2025, 1, 31, 9, 0, tzinfo=SHANGHAI))
    after = datetime(2025, 4, 2, 12, 0, tzinfo=SHANGHAI)
    assert schedule.following(after) == datetime(2025, 4, 30, 9, 0, tzinfo=SHANGHAI)


def test_the_lead_sets_the_day_and_editing_other_choices_keeps_it(client, lena):
    assert sign_in(client, lena.username, PASSWORD)
    url = reverse("printing:schedule")
    form = {"every": "month", "theme": "plain", "paper": "A5", "scope": "all", "enabled": "on"}
    client.post(url, {**form, "next_run_at": "2025-01-31T09:00"})
    schedule = PrintSchedule.objects.get()
    assert schedule.day_of_month == 31
    run_due_schedules(now=datetime(2025, 1, 31, 10, 0, tzinfo=SHANGHAI))
    schedule.refresh_from_db()
    assert f"{timezone.localtime(schedule.next_run_at):%m-%d}" == "02-28"
    # The form now shows 28 February; saving a new paper size keeps the 31st.
    client.post(url, {**form, "paper": "A4", "next_run_at": "2025-02-28T09:00"})
    schedule.refresh_from_db()
    assert schedule.paper == "A4" and schedule.day_of_month == 31
    client.post(url, {**form, "next_run_at": "2025-03-15T09:00"})
    schedule.refresh_from_db()
    assert schedule.day_of_month == 15
