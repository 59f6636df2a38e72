"""Lookups compiled once: a queryset's SQL with marked values, run again with other values.

The results page asks the database the same few questions on every search — the reader's
recently changed sections, the hits' rows, their ancestors, the manuals' titles — that
differ only in ids and a time. Django builds and compiles a queryset anew each time
(1.2 ms a lookup on the development machine, ten times what the database takes to answer
it); a ``Prepared`` lookup keeps the compiled SQL, and puts new values where its markers
were. Its rows are what the queryset would return (``tests/search/test_prepared.py``
holds the two equal on SQLite and PostgreSQL).

On PostgreSQL a lookup is also prepared by the database, once per connection (``PREPARE``;
then ``EXECUTE`` with its values): planning the hits' rows with their ancestors took
0.4-0.6 ms a page, more than running it. Only these lookups by id or time are, whose plan
does not depend on the values; the engine's own statements are planned for their grams.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cached_property
from weakref import WeakKeyDictionary

from django.db import DatabaseError, connections, transaction
from django.db.models import QuerySet

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"%%|%s")
# Pads id lists to a few sizes (one compiled lookup each): no row has primary key 0.
NO_ID = 0
# Longer id lists run as plain querysets (rare: pending sections after a bulk import, a
# common character's manuals at a very large centre); a compiled lookup holds its SQL.
MAX_IDS = 256
# The time a lookup with a time is built with; ``time_mark`` is how the database gets it.
TIME_MARK = datetime.datetime(1999, 9, 9, 9, 9, 9, 909090, tzinfo=datetime.UTC)
# Compiled lookups kept per process, least recently used dropped first (a reader uses up
# to a dozen: the recent range, hits and ancestors by a few sizes of id lists).
KEPT = 2048


def id_marks(size: int) -> list[int]:
    """Marker ids to build a lookup of ``size`` ids with: negative, so that none equals
    another parameter of the query (a user, a team, a level)."""
    return list(range(-1, -size - 1, -1))


def padded(ids: Iterable[int]) -> list[int]:
    """``ids`` without repeats, padded with ``NO_ID`` to a power of two (none: none)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    size = 1 << (len(ids) - 1).bit_length()
    return ids + [NO_ID] * (size - len(ids))


def db_time(value: datetime.datetime, alias: str = "default"):
    """A time as the database receives it for a ``DateTimeField``."""
    return connections[alias].ops.adapt_datetimefield_value(value)


def time_mark(alias: str = "default"):
    return db_time(TIME_MARK, alias)


class Prepared:
    """``queryset`` (a ``values_list``) compiled once; ``rows(values)`` runs it with
    ``values`` in place of ``markers`` (as the database receives them: ``id_marks`` for
    ids, ``time_mark()`` for a time; each must occur once among the parameters)."""

    def __init__(self, queryset: QuerySet, markers: Sequence) -> None:
        self.alias = queryset.db
        compiler = queryset.query.get_compiler(self.alias)
        sql, params = compiler.as_sql()
        self.sql, self.params = sql, list(params)
        # The columns Django converts its rows' values for (SQLCompiler.results_iter).
        self.columns = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
        if compiler.has_extra_select or compiler.has_composite_fields(self.columns):
            raise ValueError("rows Django reshapes cannot be prepared")
        at: dict[tuple, list[int]] = {}
        for position, param in enumerate(self.params):
            at.setdefault((type(param), param), []).append(position)
        self.slots = []
        for marker in markers:
            found = at.get((type(marker), marker), [])
            if len(found) != 1:
                raise ValueError(f"marker {marker!r} is {len(found)} times among the parameters")
            self.slots.append(found[0])
        # Markers whose values go into one array parameter, and its position.
        self.in_array: set[int] = set()
        self.array_slot: int | None = None
        if connections[self.alias].vendor == "postgresql":
            self._ids_as_one_array(markers)

    def _ids_as_one_array(self, markers: Sequence) -> None:
        """``IN (%s, …, %s)`` of the id markers becomes ``= ANY(%s)`` with one array: psycopg
        converts a query of more than 50 parameters anew on every execution (0.7 ms for
        the 128 ids of a common character's manuals, more than the database's answer)."""
        ids = sorted((slot, i) for i, (slot, marker) in enumerate(zip(self.slots, markers,
                                                                      strict=True))
                     if type(marker) is int)  # fmt: skip
        if len(ids) < 2 or ids[-1][0] - ids[0][0] != len(ids) - 1:
            return
        first, last = ids[0][0], ids[-1][0]
        holes = [m.span() for m in _PLACEHOLDER.finditer(self.sql) if m.group() == "%s"]
        start, end = holes[first][0], holes[last][1]
        between = [self.sql[holes[k][1] : holes[k + 1][0]] for k in range(first, last)]
        if not (self.sql[:start].endswith("IN (") and self.sql[end : end + 1] == ")"
                and all(text == ", " for text in between)):  # fmt: skip
            return
        self.sql = self.sql[: start - len("IN (")] + "= ANY(%s)" + self.sql[end + 1 :]
        self.params = self.params[:first] + [[]] + self.params[last + 1 :]
        self.in_array = {i for _slot, i in ids}
        self.array_slot = first
        self.slots = [slot - (len(ids) - 1) if slot > last else slot for slot in self.slots]

    def bound(self, values: Sequence) -> list:
        """The parameters of this lookup with ``values`` in place of its markers."""
        params = list(self.params)
        array = []
        for i, (slot, value) in enumerate(zip(self.slots, values, strict=True)):
            if i in self.in_array:
                array.append(value)
            else:
                params[slot] = value
        if self.array_slot is not None:
            params[self.array_slot] = array
        return params

    def rows(self, values: Sequence) -> list[tuple]:
        return answers([Question(self, self.bound(values))])[0]

    @cached_property
    def server_name(self) -> str:
        """Its name where the database prepares it: the same SQL, the same name (readers'
        lookups differ in their values only, and share it)."""
        return "lb_" + hashlib.sha256(self.sql.encode()).hexdigest()[:24]

    @cached_property
    def numbered(self) -> tuple[str, int]:
        """Its SQL with ``$1`` … in place of ``%s`` (as PREPARE takes it), and their count."""
        count = 0

        def number(match: re.Match) -> str:
            nonlocal count
            if match.group() == "%%":
                return "%"
            count += 1
            return f"${count}"

        return _PLACEHOLDER.sub(number, self.sql), count

    def converted(self, rows: list) -> list[tuple]:
        """The database's ``rows`` of this lookup as the queryset returns them."""
        connection = connections[self.alias]
        converters = []
        for position, column in enumerate(self.columns):
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((position, found, column))
        if not converters:
            return [tuple(row) for row in rows]
        converted = []
        for row in map(list, rows):
            for position, found, column in converters:
                value = row[position]
                for converter in found:
                    value = converter(value, column, connection)
                row[position] = value
            converted.append(tuple(row))
        return converted


@dataclass
class Question:
    """One lookup to ask the database: compiled with its parameters, or (past MAX_IDS ids)
    a plain queryset, or nothing to ask (no ids)."""

    lookup: Prepared | None = None
    params: list | None = None
    queryset: QuerySet | None = None


def _together(alias: str) -> bool:
    """Whether statements can go to this database in one execute: PostgreSQL's with
    client-side binding (Django's default; server-side binding takes one statement)."""
    connection = connections[alias]
    options = connection.settings_dict.get("OPTIONS") or {}
    return connection.vendor == "postgresql" and not options.get("server_side_binding")


def answers(questions: Sequence[Question]) -> list[list[tuple]]:
    """The rows of each question. On PostgreSQL the compiled ones go in one round trip
    (each round trip of the results page costs about half a millisecond on top of its
    query while the database process wakes up), as statements the connection prepared."""
    found: list[list[tuple] | None] = [None] * len(questions)
    asked: dict[str, list[int]] = {}
    for at, question in enumerate(questions):
        if question.queryset is not None:
            found[at] = [tuple(row) for row in question.queryset]
        elif question.lookup is None:
            found[at] = []
        else:
            asked.setdefault(question.lookup.alias, []).append(at)
    for alias, ats in asked.items():
        together = _together(alias)
        for group in [ats] if together else [[at] for at in ats]:
            lookups = [questions[at].lookup for at in group]
            params = [p for at in group for p in questions[at].params]
            if together:
                sets = _prepared_and_asked(alias, lookups, params)
            else:
                sets = _asked(alias, lookups, params, prepare=False)
            for at, rows in zip(group, sets, strict=True):
                found[at] = questions[at].lookup.converted(rows)
    return found


INVALID_STATEMENT_NAME = "26000"
CACHED_PLAN_CHANGED = "0A000"  # "cached plan must not change result type"
DUPLICATE_PREPARED_STATEMENT = "42P05"
# Per connection (psycopg's, so a new connection starts with none): the lookups its session
# has prepared.
_prepared_on: WeakKeyDictionary = WeakKeyDictionary()
_unpreparable: set[str] = set()  # lookups PREPARE refuses (sent as plain SQL)


def _prepared_and_asked(alias: str, lookups: list[Prepared], params: list) -> list[list]:
    """The rows of ``lookups`` executed as prepared statements; prepared again should the
    session have lost them (a pooler between us, DISCARD ALL). Inside a transaction, in a
    savepoint so that it can be (the search pages run outside of one)."""
    connection = connections[alias]
    try:
        with savepoint_if_nested(alias):
            return _asked(alias, lookups, params, prepare=True)
    except DatabaseError as error:
        if _sqlstate(error) not in {INVALID_STATEMENT_NAME, CACHED_PLAN_CHANGED}:
            raise
        # Lost, or planned for columns a migration has changed since: prepared anew (the
        # connection prepares no statements but these).
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        _prepared_on.pop(connection.connection, None)
        return _asked(alias, lookups, params, prepare=True)


def _asked(alias: str, lookups: list[Prepared], params: list, *, prepare: bool) -> list[list]:
    with connections[alias].cursor() as cursor:  # this thread's connection
        sql = "; ".join(_statement(alias, lookup) if prepare else lookup.sql
                        for lookup in lookups)  # fmt: skip
        cursor.execute(sql, params)
        return result_sets(cursor, len(lookups))


def _statement(alias: str, lookup: Prepared) -> str:
    """What to send for ``lookup`` on this PostgreSQL connection: ``EXECUTE`` of the
    statement its session prepared (preparing it first, once), or its SQL."""
    connection = connections[alias]
    prepared = _prepared_on.setdefault(connection.connection, set())
    name = lookup.server_name
    if name not in prepared and name not in _unpreparable:
        sql, _count = lookup.numbered
        try:
            # (Inside a transaction, in a savepoint: a refusal must not abort it.)
            with savepoint_if_nested(alias), connection.cursor() as cursor:
                cursor.execute(f"PREPARE {name} AS {sql}")
            prepared.add(name)
        except DatabaseError as error:
            state = _sqlstate(error) or ""
            if state == DUPLICATE_PREPARED_STATEMENT:
                prepared.add(name)
            elif state.startswith("42"):  # the statement itself (a type it cannot infer)
                log.warning("lookup not prepared (sent as SQL): %s", error)
                _unpreparable.add(name)
            else:
                raise  # the connection or the server: not the lookup's fault
    if name not in prepared:
        return lookup.sql
    return f"EXECUTE {name}(" + ", ".join(["%s"] * lookup.numbered[1]) + ")"


def savepoint_if_nested(alias: str = "default"):
    """A savepoint inside a transaction (an error then leaves it usable); nothing outside
    one, where the statement is its own transaction."""
    return transaction.atomic(using=alias) if connections[alias].in_atomic_block else nullcontext()


def _sqlstate(error: DatabaseError) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def result_sets(cursor, count: int) -> list[list]:
    """The rows of ``count`` statements sent in one execute, from the cursor's current
    result on; an error if fewer results came back."""
    sets = []
    for number in range(count):
        if number and not cursor.nextset():
            raise RuntimeError(f"{count} statements sent, {number} answered")
        sets.append(cursor.fetchall())
    return sets


_compiled: OrderedDict[tuple, Prepared] = OrderedDict()
_compiled_lock = threading.Lock()


def lookup(key: tuple, build: Callable[[], QuerySet], markers: Sequence) -> Prepared:
    """The lookup ``build()`` makes, compiled for ``key`` (which must name everything the
    queryset depends on) and the database's vendor, or kept from an earlier call."""
    key = (connections["default"].vendor, *key)
    with _compiled_lock:
        found = _compiled.get(key)
        if found is not None:
            _compiled.move_to_end(key)
            return found
    found = Prepared(build(), markers)
    with _compiled_lock:
        _compiled[key] = found
        while len(_compiled) > KEPT:
            _compiled.popitem(last=False)
    return found


def by_id(key: tuple, build: Callable[[list[int]], QuerySet], ids: Iterable[int]) -> Question:
    """The question ``build(ids)`` asks (a ``values_list`` filtered by ``pk__in=ids``), from
    a lookup compiled once per ``key`` and padded number of ids."""
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_IDS:
        return Question(queryset=build(ids))
    ids = padded(ids)
    if not ids:
        return Question()
    marks = id_marks(len(ids))
    found = lookup((*key, len(ids)), lambda: build(marks), marks)
    return Question(found, found.bound(ids))


def rows_by_id(key: tuple, build: Callable[[list[int]], QuerySet], ids: Iterable[int]):
    """The rows of ``build(ids)``, asked alone (see by_id)."""
    return answers([by_id(key, build, ids)])[0]
