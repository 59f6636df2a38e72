"""The PostgreSQL engine: the index is the ``search_entry`` table, in the database itself.

Every web node reads and writes the same rows, so an edit is searchable everywhere the
moment its transaction (and the index write right after it) commits.

Each row holds the folded text and the distinct codes of its grams — every 1- and
2-character gram (all scripts), the 3- to 5-grams of ASCII letters and digits, and whole
English words (as Whoosh's index holds them) — as a ``bigint[]`` with a GIN index
(PostgreSQL's own ``array_ops``: no extension needed, and codes are exact, so a gram never
collides with another; ``intarray``'s int4 codes would have to be hashes). A query takes
the rows containing all of its terms' gram codes (``grams @> …``, answered by the GIN
index), verifies each term that is not itself a gram with ``strpos`` on the folded text
(unless the row holds it as a whole word), and applies the reading rule and the filters in
the same statement. Ranking keys are Whoosh's: terms in the title, occurrences, recency.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np
from django.db import OperationalError, connection, transaction
from psycopg.errors import QueryCanceled

from manuals.models import Section
from search import index
from search.engine import Filters, Hidden, Match, Outcome, Scope, hidden_ids
from search.index import ACCESS_LEAD, ACCESS_SHARED, ACCESS_TEMPLATE, Drift, RebuildReport
from search.models import SearchCount, SearchEntry
from search.packing import MAX_COUNT
from search.prepared import result_sets, savepoint_if_nested

PAIR_BASE = 0x110000  # one past the last code point
# Grams inside ASCII letter/digit runs, 3 to 5 characters (order IDs, English), as Whoosh
# holds them: a k-gram's 7-bit characters packed above ASCII_GRAM_BASES[k], above every
# 2-gram code ((0x110000 + 1) * 0x110000 < 2**41) and below WORD_BASE. (Up to 8 made ID
# fragments exact, but nearly every 6- to 8-gram of an order ID is a key of its own: the
# GIN index grew from 0.9 to 2.1 GB at 100,000 sections, and queries slowed down.)
ASCII_GRAM_BASES = {k: (8 + k) << 56 for k in range(3, 6)}
# Each character of the title, above the ASCII grams and below WORD_BASE: a character's
# title hits (which rank first) without reading every row that holds it.
TITLE_BASE = 1 << 60
# Whole words of 5–12 ASCII letters or hyphenated (base 28, exact): a row holding the word
# is a hit for it without reading its text; longer words are verified like any term.
WORD_BASE = 1 << 62  # 2**62 + 28**12 < 2**63
_ASCII_RUN = re.compile(r"[0-9a-z]{3,}")
_WORDS = re.compile(r"(?<![a-z-])[a-z]+(?:-[a-z]+)*(?![a-z-])")
_WORD = re.compile(r"(?=.{5,12}$)[a-z]+(?:-[a-z]+)*")
# Advisory lock class for index writes of one section (pg_advisory_xact_lock(int, int)).
LOCK_CLASS = 0x5345
# And for the counts of one manual (search_count).
COUNT_LOCK_CLASS = 0x5346
BATCH = 500
REBUILD_WRITERS = 2
# A web process's index write gives up waiting for rows a rebuild holds after this long,
# and leaves the sections to the worker.
LOCK_TIMEOUT = "2s"
# Up to this many hits a query counts every hit's occurrences to rank them, as Whoosh does.
COUNTED_HITS = 2000


def gram_codes(folded: str, folded_title: str = "") -> list[int]:
    """The codes of every gram a section holding ``folded`` text is found by, sorted:
    each character, each pair, the 3- to 5-grams inside ASCII letter/digit runs, and the
    words of 5–12 letters and hyphens; and each character of ``folded_title``.

    Computed over the text's code points as arrays: the same codes as ``query_codes`` of
    every substring, about twenty times faster than a Python loop over the characters."""
    chars = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    if not len(chars):
        return []
    parts = [chars, (chars[:-1] + 1) * PAIR_BASE + chars[1:]]
    ascii_ = ((chars >= 0x30) & (chars <= 0x39)) | ((chars >= 0x61) & (chars <= 0x7A))
    for size, base in ASCII_GRAM_BASES.items():
        if len(chars) < size:
            break
        inside = ascii_[: len(chars) - size + 1].copy()
        for offset in range(1, size):
            inside &= ascii_[offset : len(chars) - size + 1 + offset]
        starts = np.flatnonzero(inside)
        if len(starts):
            code = np.full(len(starts), base, dtype=np.int64)
            for offset in range(size):
                code += chars[starts + offset] << (7 * (size - 1 - offset))
            parts.append(code)
    words = [word_code(w) for w in _WORDS.findall(folded) if 5 <= len(w) <= 12]
    if words:
        parts.append(np.array(words, dtype=np.int64))
    if folded_title:
        title = np.frombuffer(folded_title.encode("utf-32-le"), dtype=np.uint32)
        parts.append(title.astype(np.int64) + TITLE_BASE)
    return np.unique(np.concatenate(parts)).tolist()


def _ascii_gram(gram: str) -> int:
    code = ASCII_GRAM_BASES[len(gram)]
    for offset, ch in enumerate(gram):
        code += ord(ch) << (7 * (len(gram) - 1 - offset))
    return code


def word_code(word: str) -> int:
    """The code of a whole word of 5–12 ASCII letters and hyphens."""
    value = 0
    for ch in reversed(word):
        value = value * 28 + (27 if ch == "-" else ord(ch) - 96)
    return WORD_BASE + value


def query_codes(folded_term: str) -> set[int]:
    """Codes every section containing ``folded_term`` holds: its pairs, and the largest
    grams (up to 5) of its ASCII letter/digit runs instead of the pairs inside them (those
    are implied, and an English word's pairs are in nearly every row)."""
    if len(folded_term) == 1:
        return {ord(folded_term)}
    runs = [match.span() for match in _ASCII_RUN.finditer(folded_term)]
    codes = set()
    for i in range(len(folded_term) - 1):
        if not any(start <= i and i + 2 <= end for start, end in runs):
            codes.add((ord(folded_term[i]) + 1) * PAIR_BASE + ord(folded_term[i + 1]))
    for start, end in runs:
        size = min(max(ASCII_GRAM_BASES), end - start)
        codes.update(_ascii_gram(folded_term[k : k + size]) for k in range(start, end - size + 1))
    return codes


def _exact_by_grams(folded_term: str) -> bool:
    """Whether holding the term's codes proves the term (no strpos needed)."""
    return len(folded_term) <= 2 or bool(re.fullmatch(r"[0-9a-z]{3,5}", folded_term))


def _clean(text: str) -> str:
    return text.replace("\x00", " ")  # PostgreSQL text cannot hold NUL


def _entry(row) -> SearchEntry:
    """A row's entry, without its gram codes (they follow from ``folded``)."""
    doc = index._document(row)
    return SearchEntry(
        section_id=doc["c_section"], manual_id=doc["c_manual"], owner_id=doc["c_owner"],
        team_id=doc["c_team"], kind=doc["c_kind"], access=doc["c_access"],
        updated=doc["c_updated"], title=_clean(doc["title"]), text=_clean(doc["text"]),
        folded=_clean(doc["grams"]), folded_title=_clean(doc["tgrams"]), grams=[],
    )  # fmt: skip


COLUMNS = ("section_id", "manual_id", "owner_id", "team_id", "kind", "access", "updated",
           "title", "text", "folded", "folded_title", "grams")  # fmt: skip
# One statement writes a batch: each column travels as one array (the gram arrays as
# array literals, which PostgreSQL parses far faster than drivers adapt lists of ints).
_UPSERT = f"""
    INSERT INTO search_entry ({", ".join(COLUMNS)})
    SELECT s, m, o, t, k, a, u, ti, tx, f, ft, g::bigint[]
    FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::smallint[],
                %s::smallint[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[],
                %s::text[]) AS batch(s, m, o, t, k, a, u, ti, tx, f, ft, g)
    ON CONFLICT (section_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])}
    WHERE ({", ".join(f"search_entry.{c}" for c in COLUMNS[1:-1])})
          IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in COLUMNS[1:-1])})
"""
# (An unchanged row is not written again: a rebuild that re-wrote every row left as many
# dead rows and GIN entries behind, and queries 30 times slower until a VACUUM. The gram
# codes follow from ``folded``.)


def _columns(entries: list[SearchEntry]) -> list[list]:
    """The batch's entries as one list per column, ready for ``_UPSERT``."""
    columns: list[list] = [[] for _ in COLUMNS]
    for entry in entries:
        values = [getattr(entry, name) for name in COLUMNS[:-1]]
        codes = gram_codes(entry.folded, entry.folded_title)
        values.append("{" + ",".join(map(str, codes)) + "}")
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns


# --- the counts of one-character queries (search_count) -----------------------------------
ALL_SECTIONS = SearchCount.ALL_SECTIONS
COUNT_KEY = ("team_id", "code", "owner_id", "manual_id", "access")


class Tally:
    """Rows' contributions to the counts: per (team, owner, manual, access), how many rows
    hold each distinct character of their folded text (and of their title), and how many
    rows there are (``ALL_SECTIONS``)."""

    def __init__(self) -> None:
        self.groups: dict[tuple, tuple[Counter, Counter, list[int]]] = {}

    def add(self, sign: int, team, owner, manual, access, folded: str, folded_title: str):
        """Add (``sign`` 1) or take away (-1) one row."""
        chars, titled, rows = self.groups.setdefault(
            (team, owner, manual, access), (Counter(), Counter(), [0])
        )
        if sign > 0:
            chars.update(set(folded))
            titled.update(set(folded_title))
        else:
            chars.subtract(set(folded))
            titled.subtract(set(folded_title))
        rows[0] += sign

    def cells(self) -> dict[tuple, list[int]]:
        """{(team, code, owner, manual, access): [rows, title rows]}, zeros left out."""
        cells = {}
        for (team, owner, manual, access), (chars, titled, rows) in self.groups.items():
            if rows[0]:
                cells[team, ALL_SECTIONS, owner, manual, access] = [rows[0], 0]
            for ch, n in chars.items():
                if n or titled[ch]:
                    cells[team, ord(ch), owner, manual, access] = [n, titled[ch]]
        return cells


_ADD_COUNTS = f"""
    INSERT INTO search_count ({", ".join(COUNT_KEY)}, n, n_title)
    SELECT * FROM unnest(%s::bigint[], %s::int[], %s::bigint[], %s::bigint[], %s::smallint[],
                         %s::int[], %s::int[])
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT ({", ".join(COUNT_KEY)}) DO UPDATE SET
    n = search_count.n + EXCLUDED.n, n_title = search_count.n_title + EXCLUDED.n_title
"""
_DROP_EMPTY_COUNTS = f"""
    DELETE FROM search_count WHERE n = 0 AND ({", ".join(COUNT_KEY)}) IN (
        SELECT * FROM unnest(%s::bigint[], %s::int[], %s::bigint[], %s::bigint[],
                             %s::smallint[]))
"""


def _lock_manuals(cursor, manual_ids: Iterable[int]) -> None:
    """Take the count lock of each manual, in order: a recount of a manual waits for its
    writers to commit, and its writers for the recount (writers hold their sections' locks
    first, the recount none, so no one waits in a circle)."""
    cursor.execute(
        "SELECT pg_advisory_xact_lock(%s, (id %% 2147483647)::int) "
        "FROM unnest(%s::bigint[]) AS id ORDER BY id",
        [COUNT_LOCK_CLASS, sorted(set(manual_ids))],
    )


_ROWS_OF_MANUAL = (
    "SELECT team_id, owner_id, manual_id, access, folded, folded_title FROM search_entry "
    "WHERE manual_id = %s"
)


def _counts_of_manual(cursor, manual_id: int) -> tuple[dict, dict]:
    """(what the manual's rows say its counts are, what ``search_count`` holds)."""
    want = Tally()
    cursor.execute(_ROWS_OF_MANUAL, [manual_id])
    for row in cursor.fetchall():
        want.add(1, *row)
    cursor.execute(
        f"SELECT {', '.join(COUNT_KEY)}, n, n_title FROM search_count WHERE manual_id = %s",
        [manual_id],
    )
    have = {tuple(row[:5]): [row[5], row[6]] for row in cursor.fetchall()}
    return want.cells(), have


def _recount(manual_ids: Iterable[int]) -> int:
    """Count each manual's characters again from its rows (writers of the manual wait
    meanwhile, each manual in a transaction of its own); returns the counts mended."""
    mended = 0
    for manual_id in sorted(set(manual_ids)):
        with transaction.atomic(), connection.cursor() as cursor:
            _lock_manuals(cursor, [manual_id])
            want, have = _counts_of_manual(cursor, manual_id)
            change = {key: [w - h for w, h in zip(want.get(key, [0, 0]), have.get(key, [0, 0]),
                                                   strict=True)]
                      for key in want.keys() | have.keys()}  # fmt: skip
            mended += sum(cell != [0, 0] for cell in change.values())
            _write_counts(cursor, change)
    return mended


def _count_drift(manual_ids: Iterable[int]) -> int:
    """How many counts of these manuals disagree with their rows."""
    drift = 0
    with connection.cursor() as cursor:
        for manual_id in sorted(set(manual_ids)):
            want, have = _counts_of_manual(cursor, manual_id)
            drift += sum(want.get(key) != have.get(key) for key in want.keys() | have.keys())
    return drift


def _counted_manuals() -> set[int]:
    """Every manual with rows or counts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT manual_id FROM search_entry UNION "
            "SELECT DISTINCT manual_id FROM search_count"
        )
        return {pk for (pk,) in cursor.fetchall()}


def _write_counts(cursor, tally: dict) -> None:
    """Apply a batch's changes to the counts, in key order (two batches that touch the
    same counts take their row locks in the same order, so they queue, never deadlock),
    and drop the counts that fell to zero."""
    changed = sorted((key, cell) for key, cell in tally.items() if cell != [0, 0])
    if not changed:
        return
    keys = [list(column) for column in zip(*(key for key, _cell in changed), strict=True)]
    cursor.execute(_ADD_COUNTS, [*keys, [c[0] for _k, c in changed], [c[1] for _k, c in changed]])
    fallen = [key for key, cell in changed if cell[0] < 0]
    if fallen:
        cursor.execute(_DROP_EMPTY_COUNTS, [list(c) for c in zip(*fallen, strict=True)])


def _write_batch(ids: list[int], *, wait: str | None) -> None:
    """Make the table match the database for ``ids``, in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        if wait:
            cursor.execute(f"SET LOCAL lock_timeout = '{wait}'")
        # Two writers of one section (two nodes, an edit beside a worker) take turns, and
        # each reads the rows after its turn came: the last to write has the latest text.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, (id %% 2147483647)::int) "
            "FROM unnest(%s::bigint[]) AS id ORDER BY id",
            [LOCK_CLASS, ids],
        )
        entries = [_entry(row) for row in index._rows(ids).iterator(chunk_size=BATCH)]
        tally = Tally()
        cursor.execute(
            "SELECT team_id, owner_id, manual_id, access, folded, folded_title "
            "FROM search_entry WHERE section_id = ANY(%s)",
            [ids],
        )
        for row in cursor.fetchall():
            tally.add(-1, *row)
        for e in entries:
            tally.add(1, e.team_id, e.owner_id, e.manual_id, e.access, e.folded, e.folded_title)
        live = {entry.section_id for entry in entries}
        gone = [pk for pk in ids if pk not in live]
        if gone:
            cursor.execute("DELETE FROM search_entry WHERE section_id = ANY(%s)", [gone])
        if live:
            cursor.execute(_UPSERT, _columns(entries))
        if tally.groups:
            _lock_manuals(cursor, (manual for _t, _o, manual, _a in tally.groups))
            _write_counts(cursor, tally.cells())


def _write_all(batches: list[list[int]], *, threaded: bool) -> Iterator[int]:
    """Write the batches, yielding each one's size once written.

    Threaded: two writers, each with its own connection and transactions, so one turns
    rows into entries (Python) while the other's batch is written (the server), which
    doubles the rate on two cores; at most two batches wait for a writer. Unthreaded (in
    a caller's transaction, whose uncommitted rows other connections cannot see): one
    after the other, in it."""
    if not threaded:
        for batch in batches:
            _write_batch(batch, wait=None)
            yield len(batch)
        return
    with ThreadPoolExecutor(max_workers=REBUILD_WRITERS) as pool:
        running: set = set()
        for batch in batches:
            running.add(pool.submit(_write_batch_in_thread, batch))
            if len(running) >= 2 * REBUILD_WRITERS:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in finished)
        yield from (future.result() for future in wait(running).done)


def _write_batch_in_thread(ids: list[int]) -> int:
    try:
        _write_batch(ids, wait=None)
    finally:
        connection.close()  # this thread's own connection
    return len(ids)


class PostgresEngine:
    name = "postgres"
    writes_in_request = True

    # --- writes -------------------------------------------------------------------------

    def index_sections(self, *, section_ids: Iterable[int], wait: str | None = None) -> None:
        ids = sorted(set(section_ids))
        for start in range(0, len(ids), BATCH):
            _write_batch(ids[start : start + BATCH], wait=wait)

    def index_manual(self, *, manual_id: int) -> int:
        from manuals.models import Section

        ids = set(Section.objects.filter(manual_id=manual_id).values_list("id", flat=True))
        ids |= self.indexed_ids_of_manual(manual_id)
        self.index_sections(section_ids=ids)
        return len(ids)

    def indexed_ids_of_manual(self, manual_id: int) -> set[int]:
        rows = SearchEntry.objects.filter(manual_id=manual_id).values_list("pk", flat=True)
        return set(rows)

    def rebuild(self, *, progress: Callable[[int, int], None] | None = None) -> RebuildReport:
        """Re-write every row in batches (search keeps answering), drop the rest, count the
        characters again (whatever the counts were) and refresh the planner's statistics."""
        started = time.monotonic()
        ids = list(index.indexable_sections().order_by("id").values_list("id", flat=True))
        batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
        done = 0
        for written in _write_all(batches, threaded=not connection.in_atomic_block):
            done += written
            if progress:
                progress(done, len(ids))
        with connection.cursor() as cursor:
            # Rows of sections gone or trashed meanwhile, by the sections' primary key (a
            # NOT IN read every section's row, bodies and all); written like any other
            # (the rows go and their counts with them).
            cursor.execute(
                "SELECT section_id FROM search_entry AS e WHERE NOT EXISTS (SELECT 1 FROM "
                f"{Section._meta.db_table} AS s WHERE s.id = e.section_id "
                "AND s.level > 0 AND s.trashed_at IS NULL)"  # index.indexable_sections()
            )
            self.index_sections(section_ids=[pk for (pk,) in cursor.fetchall()])
            # Not the gram arrays: sampling their elements takes minutes at 100,000 rows
            # (autovacuum's ANALYZE keeps those statistics).
            cursor.execute(
                "ANALYZE search_entry (team_id, owner_id, manual_id, access, kind, updated)"
            )
        _recount(_counted_manuals())
        if not connection.in_atomic_block:
            with connection.cursor() as cursor:  # the counts' and the walk's index-only scans
                cursor.execute("VACUUM search_entry")
                cursor.execute("VACUUM (ANALYZE) search_count")
        index.clear_rebuild_requested()
        return RebuildReport(sections=len(ids), seconds=time.monotonic() - started)

    # --- state ----------------------------------------------------------------------------

    def check(self) -> Drift:
        """Compare every row with the database (the gram arrays follow from ``folded``)."""
        expected = {}
        for row in index._rows().iterator(chunk_size=2000):
            entry = _entry(row)
            expected[entry.section_id] = _fingerprint(entry)
        rows = SearchEntry.objects.defer("grams").iterator(chunk_size=2000)
        seen = {e.section_id: _fingerprint(e) for e in rows}
        missing = sorted(set(expected) - set(seen))
        extra = sorted(set(seen) - set(expected))
        stale = sorted(pk for pk in set(seen) & set(expected) if seen[pk] != expected[pk])
        counts = _count_drift(_counted_manuals())
        return Drift(missing=missing, extra=extra, stale=stale, counts=counts)

    def exists(self) -> bool:
        return self.unavailable_reason() is None

    def unavailable_reason(self) -> str | None:
        """None once built: the table has rows, or there is nothing to index."""
        try:
            if SearchEntry.objects.exists() or not index.indexable_sections().exists():
                return None
        except Exception as exc:  # not migrated, database down
            return f"{exc.__class__.__name__}: {exc}"
        return "the search table is empty; run rebuild_index"

    def pending_ids(self) -> set[int]:
        return set()  # writes happen at commit; nothing waits

    def where(self) -> str:
        return f"table {SearchEntry._meta.db_table} in the database"

    # --- queries --------------------------------------------------------------------------

    def search(self, *, terms: list[str], scope: Scope, filters: Filters, offset: int = 0,
               limit: int = 20, unreadable: frozenset[int] | Hidden = frozenset(),
               ) -> Outcome:  # fmt: skip
        terms = [t for t in dict.fromkeys(terms) if t]
        if not terms and not filters.any:
            return Outcome(total=0, matches=[])
        hidden = _hidden(unreadable)
        if len(terms) == 1 and len(terms[0]) == 1:
            outcome = _one_character(terms[0], scope, filters, offset, limit, hidden)
            if outcome is not None:
                return outcome
        where, params = _where(terms, scope, filters, hidden)
        titles, counts, title_params, count_params = _rank(terms)
        # Occurrences are counted (reading each hit's text) only when few sections match;
        # beyond COUNTED_HITS the order is title hits, then recency.
        sql = f"""
            WITH hits AS MATERIALIZED (
                -- The folded text as the row holds it: out of line, a pointer read only
                -- by the counting below (not once more by key: 8.1 -> 6.9 ms, the median
                -- of 2-character queries at 100,000 sections).
                SELECT section_id, owner_id, manual_id, updated, kind, {titles} AS titles,
                       folded
                FROM search_entry WHERE {where}
            ), total AS (SELECT count(*) AS n FROM hits),
            counted AS (
                SELECT h.section_id, h.owner_id, h.manual_id, h.updated, h.kind, h.titles,
                       {counts} AS counts
                FROM hits AS h
                WHERE (SELECT n FROM total) <= {COUNTED_HITS}
                ORDER BY titles DESC, counts DESC, updated DESC, section_id
                LIMIT %s OFFSET %s
            ), uncounted AS (
                SELECT h.section_id, h.owner_id, h.manual_id, h.updated, h.kind, h.titles,
                       0 AS counts
                FROM hits AS h
                WHERE (SELECT n FROM total) > {COUNTED_HITS}
                ORDER BY titles DESC, updated DESC, section_id
                LIMIT %s OFFSET %s
            ), page AS (SELECT * FROM counted UNION ALL SELECT * FROM uncounted)
            SELECT 1, p.section_id, p.owner_id, p.manual_id, p.updated, p.kind, p.titles,
                   p.counts, e.title, e.text, e.folded
            FROM page AS p JOIN search_entry AS e ON e.section_id = p.section_id
            UNION ALL
            SELECT 2, NULL, owner_id, manual_id, count(*), NULL, NULL, NULL, NULL, NULL, NULL
            FROM hits GROUP BY owner_id, manual_id
        """
        rows = _query(sql, title_params + params + count_params + [limit, offset, limit, offset])
        matches, by_owner, by_manual = [], Counter(), Counter()
        for part, pk, owner, manual, updated, kind, titles_, counts_, title, text, folded in rows:
            if part == 2:
                by_owner[owner] += updated  # the count, in the updated column
                by_manual[manual] += updated
                continue
            matches.append(Match(section_id=pk, manual_id=manual, owner_id=owner,
                                 updated=updated, kind_code=kind, title_terms=titles_,
                                 count=counts_, title=title, text=text,
                                 folded=folded))  # fmt: skip
        matches.sort(key=lambda m: (-m.title_terms, -m.count, -m.updated, m.section_id))
        total = sum(by_owner.values())
        if not total and not self.exists():
            raise index.IndexUnavailable(self.unavailable_reason() or "")
        return Outcome(total=total, matches=matches, by_owner=by_owner, by_manual=by_manual)

    def search_ids(self, *, terms: list[str], scope: Scope, filters: Filters | None = None):
        terms = [t for t in dict.fromkeys(terms) if t]
        filters = filters or Filters()
        if not terms and not filters.any:
            return set()
        where, params = _where(terms, scope, filters, None)
        return {
            pk for (pk,) in _query(f"SELECT section_id FROM search_entry WHERE {where}", params)
        }


# A walk of the team's rows newest first costs this many times more per row it reads than
# collecting the hits from the GIN index (it reads each row's text, out of line), except
# for title hits (the title is in the row).
WALK_COST = 3


# How many rows a team has, per process, for a minute: what the choice between a walk and
# the GIN index needs (an estimate: it weighs one against the other).
TEAM_ROWS_KEPT = 60.0
_team_rows_seen: dict[int, tuple[float, int]] = {}


def _team_rows(team_id: int) -> int:
    seen = _team_rows_seen.get(team_id)
    if seen is None or time.monotonic() - seen[0] > TEAM_ROWS_KEPT:
        sql = "SELECT coalesce(sum(n), 0) FROM search_count WHERE team_id = %s AND code = %s"
        ((rows,),) = _query(sql, [team_id, ALL_SECTIONS])
        seen = _team_rows_seen[team_id] = (time.monotonic(), int(rows))
    return max(seen[1], 1)


# A one-character query's counts as last seen in the team, per process, for a minute: its
# page is then asked in the same round trip as its counts (_one_character), and asked
# again only should the fresh counts put the page's hits elsewhere.
SHAPES_KEPT = 60.0
SHAPES_MAX = 4096
_shapes_seen: dict[tuple, tuple[float, int, int]] = {}


def _one_character(term: str, scope: Scope, filters: Filters, offset: int, limit: int,
                   hidden: tuple[str, list] | None) -> Outcome | None:  # fmt: skip
    """A one-character query, when it has more than COUNTED_HITS hits (the characters
    agents type most, held by a third of the rows or more): its total and the per-agent
    and per-manual counts from ``search_count``, and its page — title hits newest first,
    then the other hits newest first, as the general query orders them — from a walk of
    the team's rows newest first that stops at the page's last hit, or from the GIN index
    when the walk would read more rows. ``hidden``: see _hidden. None: the general query
    answers."""
    if filters.kind_code is not None or filters.updated_since is not None:
        return None
    code = ord(term)
    narrowed = [("team_id = %s", [scope.team_id]), _readable(scope), *_filtered(filters)]
    paged = narrowed
    where, params = _joined([*narrowed, ("code = %s", [code])])
    counting = (
        f"SELECT owner_id, manual_id, sum(n), sum(n_title) FROM search_count WHERE {where} "
        "GROUP BY owner_id, manual_id",
        params,
    )
    if hidden is not None:
        # The page leaves out what the counts hold but the asker may not read now.
        paged = [*narrowed, (f"NOT (section_id = ANY({hidden[0]}))", hidden[1])]
        # Counted, but the database says the asker may not read them now: taken off.
        where_hidden, params_hidden = _joined([
            *narrowed, (f"section_id = ANY({hidden[0]})", hidden[1]),
            ("strpos(folded, %s) > 0", [term]),
        ])  # fmt: skip
        counting = (
            "SELECT owner_id, manual_id, sum(n), sum(n_title) FROM ("
            f"SELECT owner_id, manual_id, n, n_title FROM search_count WHERE {where} "
            "UNION ALL SELECT owner_id, manual_id, -1, -(strpos(folded_title, %s) > 0)::int "
            f"FROM search_entry WHERE {where_hidden}) AS counted "
            "GROUP BY owner_id, manual_id HAVING sum(n) > 0",
            [*params, term, *params_hidden],
        )
    # The team's, not the asker's: any teammate's counts plan the page as well (a plan
    # from counts that differ is asked again below, so it costs time, never the answer).
    shape_key = (scope.team_id, code, filters.owner_id, filters.manual_id)
    seen = _shapes_seen.get(shape_key)
    guess = None
    if seen is not None and time.monotonic() - seen[0] <= SHAPES_KEPT:
        guess = _page_plan(term, scope, paged, offset, limit, titled=seen[1], total=seen[2])
    if guess is not None:
        rows, page_rows = _queries([counting, guess[1]])
    else:
        (rows,) = _queries([counting])
    by_owner, by_manual, total, titled = Counter(), Counter(), 0, 0
    for owner, manual, n, n_title in rows:
        by_owner[owner] += n
        by_manual[manual] += n
        total, titled = total + n, titled + n_title
    if len(_shapes_seen) >= SHAPES_MAX:
        _shapes_seen.clear()
    _shapes_seen[shape_key] = (time.monotonic(), titled, total)
    if total <= COUNTED_HITS:
        return None
    plan = _page_plan(term, scope, paged, offset, limit, titled=titled, total=total)
    if plan is None:  # past the last hit
        return Outcome(total=total, matches=[], by_owner=by_owner, by_manual=by_manual)
    if guess is None or guess[0] != plan[0]:  # not asked, or for other parts of the hits
        (page_rows,) = _queries([plan[1]])
    matches = [
        Match(section_id=pk, manual_id=manual, owner_id=owner, updated=updated, kind_code=kind,
              title_terms=in_title, count=0, title=title, text=text, folded=folded)
        for in_title, pk, owner, manual, updated, kind, title, text, folded in page_rows
    ]  # fmt: skip
    matches.sort(key=lambda m: (-m.title_terms, -m.updated, m.section_id))
    return Outcome(total=total, matches=matches, by_owner=by_owner, by_manual=by_manual)


def _page_plan(term: str, scope: Scope, narrowed: list, offset: int, limit: int, *,
               titled: int, total: int) -> tuple[list, tuple[str, list]] | None:  # fmt: skip
    """The parts of the hits the page ``offset``/``limit`` takes — (in the title, rows to
    skip, rows to take) — and the statement that reads them, for these counts; None past
    the last hit. The parts are the page's answer; how each is read only its speed."""
    code = ord(term)
    base, base_params = _joined(narrowed)
    # (``team_id + 0``: the GIN index's hits, not the team's rows from the team index and
    # each one's gram array read to test it.)
    by_grams, by_grams_params = _joined([("team_id + 0 = %s", [scope.team_id]), *narrowed[1:]])
    team_rows = _team_rows(scope.team_id)
    first, last = offset, offset + limit
    parts = []  # (in the title, rows to skip, rows to take, hits of the part)
    if first < titled:
        parts.append((True, first, min(last, titled) - first, titled))
    if last > titled and total > titled:
        parts.append((False, max(first - titled, 0), last - max(first, titled), total - titled))
    ctes, cte_params, pages, page_params = [], [], [], []
    for number, (in_title, skip, take, hits) in enumerate(parts):
        walked = (skip + take) * team_rows / hits * (1 if in_title else WALK_COST)
        held = titled if in_title else total
        if walked <= held:
            test, test_params = (("strpos(folded_title, %s) > 0", [term]) if in_title else
                                 ("NOT (strpos(folded_title, %s) > 0) AND strpos(folded, %s) > 0",
                                  [term, term]))  # fmt: skip
            source = f"(SELECT section_id, updated FROM search_entry WHERE {base} AND {test}"
            page_params += [*base_params, *test_params]
        else:
            # The GIN index's hits, collected in full (MATERIALIZED: not a walk that reads
            # every row's gram array), then the page of them.
            test, test_params = (("TRUE", []) if in_title else
                                 ("NOT (strpos(folded_title, %s) > 0)", [term]))  # fmt: skip
            ctes.append(f"part{number} AS MATERIALIZED (SELECT section_id, updated "
                        f"FROM search_entry WHERE {by_grams} AND grams @> ARRAY[%s]::bigint[] "
                        f"AND {test})")  # fmt: skip
            cte_params += [*by_grams_params, code + TITLE_BASE if in_title else code, *test_params]
            source = f"(SELECT section_id, updated FROM part{number}"
        pages.append(f"SELECT {int(in_title)} AS titled, * FROM {source} "
                     "ORDER BY updated DESC, section_id LIMIT %s OFFSET %s) AS p")  # fmt: skip
        page_params += [take, skip]
    if not pages:
        return None
    sql = (f"WITH {', '.join(ctes)} " if ctes else "") + (
        "SELECT p.titled, e.section_id, e.owner_id, e.manual_id, e.updated, e.kind, e.title, "
        f"e.text, e.folded FROM ({' UNION ALL '.join(pages)}) AS p "
        "JOIN search_entry AS e ON e.section_id = p.section_id"
    )
    return [part[:3] for part in parts], (sql, cte_params + page_params)


# Settings of a query's transaction. The GIN index, not a sequential scan (that would read
# every row's gram array); no JIT compilation (the per-hit count subplan makes the planner's
# estimate huge, and compiling took 180 ms of a 260 ms query); room to keep a common
# character's tens of thousands of hits in memory instead of temporary files.
# And a bound: a query that takes longer is stopped (SearchTooSlow).
QUERY_TIMEOUT = "10s"
QUERY_SETTINGS = {"enable_seqscan": "off", "jit": "off", "work_mem": "32MB"}


def _query(sql: str, params: list) -> list[tuple]:
    """The rows of one search statement (see _queries)."""
    return _queries([(sql, params)])[0]


def _queries(statements: list[tuple[str, list]]) -> list[list[tuple]]:
    """The rows of each search statement, run with ``QUERY_SETTINGS`` and ``QUERY_TIMEOUT``
    in one round trip: the settings' ``set_config(…, true)`` and the statements go in one
    execute, whose statements share one implicit transaction (no BEGIN, no COMMIT), so the
    settings end with it. Inside a caller's transaction a savepoint keeps a stopped query
    from aborting it, and RESETs end the settings."""
    settings = {**QUERY_SETTINGS, "statement_timeout": QUERY_TIMEOUT}
    nested = connection.in_atomic_block
    batch = "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(settings))
    params = [part for pair in settings.items() for part in pair]
    for sql, statement_params in statements:
        batch += "; " + sql
        params += statement_params
    if nested:
        batch += "".join(f"; RESET {name}" for name in settings)
    try:
        with savepoint_if_nested():
            with connection.cursor() as cursor:
                cursor.execute(batch, params)
                cursor.nextset()  # past set_config's row
                return result_sets(cursor, len(statements))
    except OperationalError as exc:
        if isinstance(exc.__cause__, QueryCanceled):
            raise index.SearchTooSlow(f"stopped after {QUERY_TIMEOUT}") from exc
        raise


def _hidden(unreadable: frozenset[int] | Hidden) -> tuple[str, list] | None:
    """The sections the asker may not read now although the index may say so, as an array
    expression and its parameters: the database's own question when there is one (asked
    inside the search's statements, not in a round trip before them), else the ids; None
    when there are none."""
    if isinstance(unreadable, Hidden) and unreadable.subquery is not None:
        sql, params = unreadable.subquery
        return f"ARRAY({sql})", list(params)
    ids = hidden_ids(unreadable)
    return ("%s::bigint[]", [sorted(ids)]) if ids else None


def _readable(scope: Scope) -> tuple[str, list]:
    """The reading rule of Section.objects.readable_by, as in search.engine."""
    shown = ACCESS_SHARED | ACCESS_TEMPLATE | (ACCESS_LEAD if scope.is_lead else 0)
    return "(access & %s <> 0 OR owner_id = %s)", [shown, scope.user_id]


def _filtered(filters: Filters) -> list[tuple[str, list]]:
    conditions = []
    for column, value in (("owner_id", filters.owner_id), ("manual_id", filters.manual_id),
                          ("kind", filters.kind_code)):  # fmt: skip
        if value is not None:
            conditions.append((f"{column} = %s", [value]))
    if filters.updated_since is not None:
        conditions.append(("updated >= %s", [filters.updated_since]))
    return conditions


def _joined(conditions: list[tuple[str, list]]) -> tuple[str, list]:
    return " AND ".join(c for c, _p in conditions), [p for _c, ps in conditions for p in ps]


def _where(terms: list[str], scope: Scope, filters: Filters, hidden: tuple[str, list] | None):
    readable = _readable(scope)
    conditions = [("team_id = %s", [scope.team_id]), readable]
    codes = set().union(*(query_codes(t) for t in terms)) if terms else set()
    if codes:
        conditions.append(("grams @> %s::bigint[]", [sorted(codes)]))
    conditions += _filtered(filters)
    if hidden is not None:
        conditions.append((f"NOT (section_id = ANY({hidden[0]}))", hidden[1]))
    checks = []
    for term in terms:
        if _exact_by_grams(term):
            continue
        if _WORD.fullmatch(term):
            # Rows holding the word are hits without reading their text (a common word's
            # candidates run to tens of thousands); the others are verified.
            checks.append((
                "(section_id IN (SELECT section_id FROM search_entry WHERE team_id = %s "
                "AND grams @> ARRAY[%s]::bigint[]) OR strpos(folded, %s) > 0)",
                [scope.team_id, word_code(term), term],
            ))  # fmt: skip
        else:
            checks.append(("strpos(folded, %s) > 0", [term]))
    if checks:
        # Reading a row's text is the dear part: only for rows the user may read (the
        # planner would order a bare strpos before the reading rule).
        sql = f"CASE WHEN {readable[0]} THEN {' AND '.join(c for c, _p in checks)} ELSE false END"
        conditions.append((sql, readable[1] + [p for _c, params in checks for p in params]))
    return _joined(conditions)


def _rank(terms: list[str]):
    """SQL for the terms found in the title, and the occurrences of every term in the
    folded text ``h.folded`` (non-overlapping, like ``str.count``; byte lengths are cheaper than
    character lengths and give the same number), capped like Whoosh's."""
    if not terms:
        return "0", "0", [], []
    titles = " + ".join(["(strpos(folded_title, %s) > 0)::int"] * len(terms))
    counts = " + ".join(
        ["(octet_length(h.folded) - octet_length(replace(h.folded, %s, ''))) / %s"] * len(terms)
    )
    count_params = []
    for term in terms:
        count_params += [term, len(term.encode("utf-8"))]
    return f"({titles})", f"least({counts}, {MAX_COUNT})", list(terms), count_params


def _fingerprint(entry: SearchEntry) -> tuple:
    return (entry.title, entry.text, entry.manual_id, entry.owner_id, entry.team_id,
            entry.access, entry.updated, entry.kind, entry.folded)  # fmt: skip
