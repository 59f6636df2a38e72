"""Lookups compiled once: a queryset's SQL with marked values, run again with other values.

The results page asks the database the same few questions on every search — the reader's
recently changed sections, the hits' rows, their ancestors, the manuals' titles — that
differ only in ids and a time. Django builds and compiles a queryset anew each time
(1.2 ms a lookup on the development machine, ten times what the database takes to answer
it); a ``Prepared`` lookup keeps the compiled SQL and the converters Django applies to its
rows, and puts new values where its markers were. What it returns is what the queryset
would (``tests/search/test_prepared.py`` holds the two equal on SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence

from django.db import connections
from django.db.models import QuerySet

# Pads id lists to a few sizes (one compiled lookup each): no row has primary key 0.
NO_ID = 0
# The time a lookup with a time is built with (``time_mark``: as the database gets it).
TIME_MARK = datetime.datetime(1999, 9, 9, 9, 9, 9, 909090, tzinfo=datetime.UTC)


def id_marks(size: int) -> list[int]:
    """Marker ids to build a lookup of ``size`` ids with: no row has a negative key."""
    return list(range(-1, -size - 1, -1))


def padded(ids: Iterable[int]) -> list[int]:
    """``ids`` without repeats, padded with ``NO_ID`` to a power of two (none: none)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    size = 1 << max(0, len(ids) - 1).bit_length()
    return ids + [NO_ID] * (size - len(ids))


def time_mark(alias: str = "default"):
    """The marker for a time, as the database receives it."""
    return connections[alias].ops.adapt_datetimefield_value(TIME_MARK)


def as_time_value(value: datetime.datetime, alias: str = "default"):
    return connections[alias].ops.adapt_datetimefield_value(value)


class Prepared:
    """``queryset`` (a ``values_list``) compiled once; ``rows(values)`` runs it with
    ``values`` in place of ``markers`` (as the database receives them: ``id_marks`` for
    ids, ``time_mark()`` for a time; each must occur once among the parameters)."""

    def __init__(self, queryset: QuerySet, markers: Sequence) -> None:
        self.alias = queryset.db
        compiler = queryset.query.get_compiler(self.alias)
        sql, params = compiler.as_sql()
        self.sql, self.params = sql, list(params)
        self.slots = []
        for marker in markers:
            at = [i for i, p in enumerate(self.params) if type(p) is type(marker) and p == marker]
            if len(at) != 1:
                raise ValueError(f"marker {marker!r} is {len(at)} times among the parameters")
            self.slots.append(at[0])
        # What Django applies to each column of a row (see SQLCompiler.results_iter).
        columns = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
        self.converters = list(compiler.get_converters(columns).items())

    def rows(self, values: Sequence) -> list[tuple]:
        params = list(self.params)
        for slot, value in zip(self.slots, values, strict=True):
            params[slot] = value
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if not self.converters:
            return [tuple(row) for row in rows]
        converted = []
        for row in map(list, rows):
            for position, (convert, expression) in self.converters:
                value = row[position]
                for converter in convert:
                    value = converter(value, expression, connection)
                row[position] = value
            converted.append(tuple(row))
        return converted


_compiled: dict[tuple, Prepared] = {}
COMPILED_KEPT = 512


def lookup(key: tuple, build: Callable[[], QuerySet], markers: Sequence) -> Prepared:
    """The lookup ``build()`` makes, compiled once per ``key`` (which must name all the
    queryset depends on) and database vendor."""
    key = (connections["default"].vendor, *key)
    found = _compiled.get(key)
    if found is None:
        if len(_compiled) >= COMPILED_KEPT:
            _compiled.clear()
        found = _compiled[key] = Prepared(build(), markers)
    return found


def rows_by_id(key: tuple, build: Callable[[list[int]], QuerySet], ids: Iterable[int]):
    """The rows of ``build(marks)`` (a ``values_list`` filtered by ``pk__in=marks``) for
    ``ids``, compiled once per ``key`` and padded size."""
    ids = padded(ids)
    if not ids:
        return []
    marks = id_marks(len(ids))
    return lookup((*key, len(ids)), lambda: build(marks), marks).rows(ids)
