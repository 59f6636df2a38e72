"""Lookups compiled once return what their querysets return, on SQLite and PostgreSQL."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from manuals.models import Manual, Section
from search import prepared
from search.engine import Scope
from search.results import sections_read_by


@pytest.fixture
def database(search_engine):
    """The database each engine's tests run on (conftest: whoosh on SQLite, postgres on a
    PostgreSQL)."""
    return search_engine


@pytest.fixture
def reader(database, db, alice_manual, bob_manual, lena):
    """Lena (a lead) reading a team with private, lead-only and trashed sections."""
    rows = list(Section.objects.filter(manual=bob_manual, level__gt=0).order_by("lft"))
    Section.objects.filter(pk=rows[0].pk).update(visibility=Section.Visibility.LEAD)
    Section.objects.filter(pk=rows[1].pk).update(trashed_at=timezone.now())
    shared = Section.objects.filter(manual=alice_manual, level__gt=0).order_by("lft")[:3]
    Section.objects.filter(pk__in=[s.pk for s in shared]).update(
        visibility=Section.Visibility.SHARED
    )
    return Scope(user_id=lena.pk, team_id=lena.member.team_id, is_lead=True)


COLUMNS = ("id", "parent_id", "title", "updated_at", "manual__title", "readable", "shown")


def test_rows_by_id_are_the_querysets_rows(reader, database):
    ids = list(Section.objects.filter(level__gt=0).values_list("pk", flat=True))
    absent = list(range(10**6, 10**6 + prepared.MAX_IDS))
    for some in (ids[:1], ids[:3], ids[2:9], ids, ids + ids[:2], [], [999_999],
                 ids + absent[:100], ids + absent):  # fmt: skip
        got = prepared.rows_by_id(
            ("test", database, reader, COLUMNS),
            lambda marks: sections_read_by(reader).filter(pk__in=marks).values_list(*COLUMNS),
            some,
        )
        want = sections_read_by(reader).filter(pk__in=some).values_list(*COLUMNS)
        assert sorted(got) == sorted(want)
        assert got or not set(some) & set(ids)
    rows = prepared.rows_by_id(
        ("test", database, reader, COLUMNS),
        lambda marks: sections_read_by(reader).filter(pk__in=marks).values_list(*COLUMNS),
        ids,
    )
    # Converted as Django converts them: booleans, aware times.
    assert {type(row[5]) for row in rows} == {bool} and {row[5] for row in rows} == {True, False}
    assert all(timezone.is_aware(row[3]) for row in rows)


def test_a_time_goes_where_its_mark_was(reader, database):
    Section.objects.filter(title="请假流程").update(
        updated_at=timezone.now() - datetime.timedelta(days=3)
    )

    def build():
        newest = sections_read_by(reader).filter(updated_at__gte=prepared.TIME_MARK)
        return newest.order_by("-updated_at").values_list("pk", "title", "readable")

    lookup = prepared.lookup(("test-time", database, reader), build, [prepared.time_mark()])
    for days in (0.5, 2, 5):
        since = timezone.now() - datetime.timedelta(days=days)
        got = lookup.rows([prepared.db_time(since)])
        newest = sections_read_by(reader).filter(updated_at__gte=since).order_by("-updated_at")
        assert got == list(newest.values_list("pk", "title", "readable"))
        assert ("请假流程" in [title for _pk, title, _ok in got]) == (days > 3)


def test_manuals_by_id(reader, database):
    ids = list(Manual.objects.values_list("pk", flat=True))
    got = prepared.rows_by_id(
        ("test-manuals", database),
        lambda marks: Manual.objects.filter(pk__in=marks).order_by().values_list("id", "title"),
        ids,
    )
    assert sorted(got) == sorted(Manual.objects.values_list("id", "title"))


def test_on_postgresql_many_ids_travel_as_one_array(reader, database):
    """psycopg converts a query of more than 50 parameters anew on every execution (0.7 ms
    for 128 ids, more than PostgreSQL takes to answer): there the ids are one array."""
    ids = list(Section.objects.values_list("pk", flat=True))
    marks = prepared.id_marks(128)
    lookup = prepared.Prepared(
        sections_read_by(reader).filter(pk__in=marks).values_list(*COLUMNS), marks
    )
    some = prepared.padded(ids + list(range(10**6, 10**6 + 128 - len(ids))))
    assert sorted(lookup.rows(some)) == sorted(
        sections_read_by(reader).filter(pk__in=ids).values_list(*COLUMNS)
    )
    if database == "postgres":
        assert len(lookup.params) < 50 and "= ANY(" in lookup.sql
    else:
        assert len(lookup.params) >= 128


def test_a_mark_that_is_not_a_parameter_once_is_refused(db):
    same = Section.objects.filter(pk__in=[-1], parent_id=-1).values_list("id")
    with pytest.raises(ValueError, match="2 times"):
        prepared.Prepared(same, [-1])
    with pytest.raises(ValueError, match="0 times"):
        prepared.Prepared(Section.objects.filter(pk=5).values_list("id"), [-1])


def test_ids_are_padded_to_few_sizes():
    assert prepared.padded([]) == []
    assert prepared.padded([7]) == [7]
    assert prepared.padded([7, 7, 8, 9]) == [7, 8, 9, prepared.NO_ID]
    assert [len(prepared.padded(range(1, n + 1))) for n in (2, 3, 5, 16, 17)] == [2, 4, 8, 16, 32]


def test_the_least_recently_used_lookups_go_first(db, monkeypatch):
    monkeypatch.setattr(prepared, "KEPT", 2)
    monkeypatch.setattr(prepared, "_compiled", prepared.OrderedDict())
    built = []

    def one(name):
        def build():
            built.append(name)
            return Section.objects.filter(pk__in=[-1]).values_list("id")

        return prepared.lookup(("lru", name), build, [-1])

    one("a"), one("b"), one("a"), one("c")  # b is the least recently used: dropped
    one("a"), one("c")
    assert built == ["a", "b", "c"]
    one("b")
    assert built == ["a", "b", "c", "b"] and len(prepared._compiled) == 2


def test_questions_asked_together_get_each_its_own_rows(reader, database):
    """``answers`` sends compiled lookups in one round trip on PostgreSQL: each gets its own
    rows, converted, beside a plain queryset (past MAX_IDS ids) and an empty question."""
    ids = list(Section.objects.filter(level__gt=0).values_list("pk", flat=True))
    manuals = list(Manual.objects.values_list("pk", flat=True))

    def sections(marks):
        return sections_read_by(reader).filter(pk__in=marks).values_list(*COLUMNS)

    def manual_rows(marks):
        return Manual.objects.filter(pk__in=marks).order_by().values_list("id", "title")

    many = ids + list(range(10**6, 10**6 + prepared.MAX_IDS))
    questions = [
        prepared.by_id(("together", database, reader), sections, ids[:3]),
        prepared.by_id(("together-manuals", database), manual_rows, manuals),
        prepared.by_id(("together", database, reader), sections, []),
        prepared.by_id(("together", database, reader), sections, many),
        prepared.by_id(("together", database, reader), sections, ids[3:]),
    ]
    sent = []

    def keep(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        got = prepared.answers(questions)
    # The queryset, then the three compiled lookups: together on PostgreSQL, as statements
    # the connection prepares once (the savepoints: the test's transaction's).
    asked = [q for q in sent if not q.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "PREPARE"))]
    assert len(asked) == (2 if database == "postgres" else 4)
    if database == "postgres":
        assert asked[-1].count("EXECUTE lb_") == 3
    assert [sorted(rows) for rows in got] == [
        sorted(sections_read_by(reader).filter(pk__in=some).values_list(*COLUMNS))
        if some is not None else sorted(Manual.objects.values_list("id", "title"))
        for some in (ids[:3], None, [], ids, ids[3:])
    ]  # fmt: skip
    assert {type(row[5]) for row in got[0] + got[4]} == {bool}
