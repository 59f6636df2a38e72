"""Running a query against the index: candidates from gram postings, permissions and
filters from per-document columns, exact verification, ranking.

Per segment, everything is a numpy array over the segment's documents: the permission
mask, the filters, each gram's postings. Only the verification of terms that are not
grams themselves looks at documents one by one, and only at the candidates left.

Everything the caller gets back — hits, the total, the per-agent counts — has already
passed the permission filter, so no count or snippet can leak an unreadable section.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from search.analysis import is_gram, query_grams, word_token
from search.index import (
    ACCESS_LEAD,
    ACCESS_SHARED,
    ACCESS_TEMPLATE,
    IndexUnavailable,
    index_dir,
    open_index,
)
from search.packing import MAX_COUNT
from search.whoosh_store import Reader, Segment, open_reader

_NEWLINE = re.compile(b"\n")
META_COLUMNS = ("c_section", "c_manual", "c_owner", "c_team", "c_access", "c_updated", "c_kind")


@dataclass(frozen=True)
class Scope:
    """Who is asking: mirrors ``Section.objects.readable_by`` for indexed documents."""

    user_id: int
    team_id: int
    is_lead: bool


@dataclass(frozen=True)
class Filters:
    owner_id: int | None = None
    manual_id: int | None = None
    kind_code: int | None = None
    updated_since: int | None = None  # epoch seconds

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.owner_id, self.manual_id, self.kind_code,
                                            self.updated_since))  # fmt: skip


class Hidden:
    """Sections the asker may not read now although the index may still say so (changed
    lately: their index update can be on its way), to be neither shown nor counted.

    ``ids()`` asks the database for them (once). ``subquery``: SQL and parameters that
    select the same ids in the default database, or None — an engine whose index is in
    that database asks it inside its own query, saving a round trip.
    """

    def __init__(self, ids: Callable[[], frozenset[int]],
                 subquery: tuple[str, list] | None = None) -> None:  # fmt: skip
        self._ids, self._found = ids, None
        self.subquery = subquery

    def ids(self) -> frozenset[int]:
        if self._found is None:
            self._found = frozenset(self._ids())
        return self._found


def hidden_ids(unreadable: frozenset[int] | Hidden) -> frozenset[int]:
    return unreadable.ids() if isinstance(unreadable, Hidden) else frozenset(unreadable)


@dataclass
class Match:
    section_id: int
    manual_id: int
    owner_id: int
    updated: int
    kind_code: int
    title_terms: int
    count: int
    title: str = ""
    text: str = ""
    # fold(title + "\n" + text), as the index keeps it (both engines fill it): hits are
    # counted and marked in it, without folding long texts again.
    folded: str = ""


@dataclass
class Outcome:
    total: int
    matches: list[Match]
    by_owner: Counter = field(default_factory=Counter)
    by_manual: Counter = field(default_factory=Counter)


class _SegmentData:
    """Per-segment document columns, loaded once (segments never change, only deletions)."""

    def __init__(self, segment: Segment) -> None:
        self.size = segment.size
        self.columns = {name: segment.int_column(name) for name in META_COLUMNS}
        # Dense codes for counting results per owner and per manual with bincount.
        self.owners, self.owner_code = np.unique(self.columns["c_owner"], return_inverse=True)
        self.manuals, self.manual_code = np.unique(self.columns["c_manual"], return_inverse=True)
        self.allowed_cache: dict[Scope, np.ndarray] = {}
        self.live_cache: dict[tuple[Scope, int], np.ndarray] = {}

    def allowed(self, scope: Scope, deleted: frozenset[int]) -> np.ndarray:
        """Boolean mask of the live documents ``scope`` may read."""
        cached = self.allowed_cache.get(scope)
        if cached is None:
            cols = self.columns
            cached = cols["c_team"] == scope.team_id
            # The reading rule of Section.objects.readable_by, as bit masks.
            shown = ACCESS_SHARED | ACCESS_TEMPLATE | (ACCESS_LEAD if scope.is_lead else 0)
            cached &= ((cols["c_access"] & shown) != 0) | (cols["c_owner"] == scope.user_id)
            cached.flags.writeable = False
            if len(self.allowed_cache) > 64:
                self.allowed_cache.clear()
            self.allowed_cache[scope] = cached
        if not deleted:
            return cached
        # A segment's deletions only ever grow, so their number identifies them.
        key = (scope, len(deleted))
        live = self.live_cache.get(key)
        if live is None:
            if len(self.live_cache) > 64:
                self.live_cache.clear()
            live = cached.copy()
            live[np.fromiter(deleted, dtype=np.int64, count=len(deleted))] = False
            live.flags.writeable = False
            self.live_cache[key] = live
        return live


_segments: dict[str, _SegmentData] = {}
_segments_lock = threading.Lock()
_local = threading.local()


def _segment_data(segment: Segment) -> _SegmentData:
    with _segments_lock:
        seg = _segments.get(segment.key)
    if seg is None:
        seg = _SegmentData(segment)
        with _segments_lock:
            if len(_segments) > 256:
                _segments.clear()
            _segments[segment.key] = seg
    return seg


def current_reader() -> Reader:
    """This thread's reader, reopened when the index changed or was swapped by a rebuild."""
    directory = index_dir()
    try:
        stamp = (directory.stat().st_ino, (directory / "SCHEMA_VERSION").stat().st_mtime_ns)
    except OSError as exc:
        raise IndexUnavailable(str(exc)) from exc
    cached = getattr(_local, "reader", None)
    if cached is not None:
        reader, old_stamp = cached
        try:
            if old_stamp == stamp and reader.is_current():
                return reader
        except Exception:
            pass
        reader.close()
        _local.reader = None
    ix = open_index(directory)
    try:
        reader = open_reader(ix)
    except Exception as exc:
        raise IndexUnavailable(str(exc)) from exc
    _local.reader = (reader, stamp)
    return reader


@dataclass
class _SegmentHits:
    seg: _SegmentData
    segment: Segment
    docs: np.ndarray  # docnums within the segment, ascending
    counts: np.ndarray  # occurrences of the terms, per doc
    titles: np.ndarray  # terms found in the title, per doc

    def keys(self) -> np.ndarray:
        """Rank keys: title hits, then occurrences, then recency, in one int64."""
        counts = np.minimum(self.counts, MAX_COUNT).astype(np.int64)
        updated = self.seg.columns["c_updated"][self.docs]
        titles = np.minimum(self.titles, 255).astype(np.int64)  # 8 bits: 52 + 8 < 63
        return (titles << 52) | (counts << 40) | updated


def search_index(
    *,
    terms: list[str],
    scope: Scope,
    filters: Filters,
    offset: int = 0,
    limit: int = 20,
    unreadable: frozenset[int] | Hidden = frozenset(),
) -> Outcome:
    """Every readable section containing all folded ``terms``, ranked; one page loaded.

    With no terms but some filter, every readable section the filters let through.
    ``unreadable``: sections the database says the asker may no longer read although the
    index does not know yet (an edit still queued): neither shown nor counted.
    """
    reader = current_reader()
    unreadable = hidden_ids(unreadable)
    hits, by_owner, by_manual = _matches(reader, terms, scope, filters, unreadable)
    total = sum(len(part.docs) for part in hits)
    matches = []
    for i, d in _top(hits, offset + limit)[offset:]:
        part = hits[i]
        cols = part.seg.columns
        doc = int(part.docs[d])
        stored = part.segment.stored_fields(doc)
        folded, starts, lengths = part.segment.bytes_column("c_folded")
        start = int(starts[doc])
        matches.append(
            Match(
                section_id=int(cols["c_section"][doc]),
                manual_id=int(cols["c_manual"][doc]),
                owner_id=int(cols["c_owner"][doc]),
                updated=int(cols["c_updated"][doc]),
                kind_code=int(cols["c_kind"][doc]),
                title_terms=int(part.titles[d]),
                count=int(part.counts[d]),
                title=stored["title"],
                text=stored["text"],
                folded=bytes(folded[start : start + int(lengths[doc])]).decode(
                    "utf-8", "surrogatepass"
                ),
            )
        )
    return Outcome(total=total, matches=matches, by_owner=by_owner, by_manual=by_manual)


def _top(hits: list[_SegmentHits], k: int) -> list[tuple[int, int]]:
    """(part, position) of the ``k`` best hits: highest key, then lowest docnum."""
    if not hits or k <= 0:
        return []
    keys = np.concatenate([part.keys() for part in hits])
    docs = np.concatenate([part.docs + part.segment.base for part in hits])
    parts = np.concatenate([np.full(len(part.docs), i) for i, part in enumerate(hits)])
    positions = np.concatenate([np.arange(len(part.docs)) for part in hits])
    if len(keys) > k:
        # Everything at least as good as the k-th best key, ties included.
        threshold = np.partition(keys, len(keys) - k)[len(keys) - k]
        keep = np.flatnonzero(keys >= threshold)
        keys, docs, parts, positions = keys[keep], docs[keep], parts[keep], positions[keep]
    order = np.lexsort((docs, -keys))[:k]
    return list(zip(parts[order].tolist(), positions[order].tolist(), strict=True))


def search_ids(*, terms: list[str], scope: Scope, filters: Filters | None = None) -> set[int]:
    """The ids of every matching section (unranked): for checks and benchmarks."""
    hits, _owners, _manuals = _matches(current_reader(), terms, scope, filters or Filters())
    return {pk for part in hits for pk in part.seg.columns["c_section"][part.docs].tolist()}


def _matches(
    reader: Reader,
    terms: list[str],
    scope: Scope,
    filters: Filters,
    unreadable: frozenset[int] = frozenset(),
):
    """Per segment: the readable documents containing every term, with their counts."""
    terms = [t for t in dict.fromkeys(terms) if t]
    hits: list[_SegmentHits] = []
    by_owner: Counter = Counter()
    by_manual: Counter = Counter()
    if not terms and not filters.any:
        return hits, by_owner, by_manual
    for segment in reader.segments():
        seg = _segment_data(segment)
        deleted = segment.deleted()
        present = seg.allowed(scope, deleted)
        if filters.any:
            present = present & _filter_mask(seg, filters)
        if all(is_gram(term) for term in terms):
            docs, counts, titles = _gram_hits(segment, present, terms)
            if len(docs) and unreadable:
                keep = _not_in(seg, docs, unreadable)
                docs, counts, titles = docs[keep], counts[keep], titles[keep]
        else:
            docs, counts, titles = _checked_hits(segment, seg, present, terms, unreadable)
        if not len(docs):
            continue
        by_owner.update(_tally(seg.owners, seg.owner_code[docs]))
        by_manual.update(_tally(seg.manuals, seg.manual_code[docs]))
        hits.append(_SegmentHits(seg=seg, segment=segment, docs=docs, counts=counts,
                                 titles=titles))  # fmt: skip
    return hits, by_owner, by_manual


def _not_in(seg: _SegmentData, docs: np.ndarray, sections: frozenset[int]) -> np.ndarray:
    """Mask of ``docs`` whose section is not one of ``sections``."""
    gone = np.fromiter(sections, dtype=np.int64, count=len(sections))
    return ~np.isin(seg.columns["c_section"][docs], gone)


def _checked_hits(segment: Segment, seg: _SegmentData, present: np.ndarray, terms: list[str],
                  unreadable: frozenset[int]):  # fmt: skip
    """(docs, counts, titles) of the documents in ``present`` holding every term: gram
    postings narrow the candidates, the other terms are verified in the text (except
    where a whole-word token proves them), the ``unreadable`` sections never read."""
    counts = np.zeros(seg.size, dtype=np.int64)
    titles = np.zeros(seg.size, dtype=np.int64)
    checks: list[_Check] = []
    # Exact terms first: their postings are the answer and narrow the rest.
    for term in sorted(terms, key=lambda t: (not is_gram(t), len(t))):
        if not present.any():
            break
        if is_gram(term):
            ids, weights = segment.postings("grams", term)
            present = present & _mask(seg.size, ids)
            counts[ids] += weights.astype(np.int64)
            titles[segment.postings("tgrams", term)[0]] += 1
        else:
            present = present & _candidates(segment, "grams", seg.size, term)
            checks.append(_Check(term, *_proven(segment, seg.size, term, counts, titles)))
    docs = np.flatnonzero(present)
    if len(docs) and unreadable:
        docs = docs[_not_in(seg, docs, unreadable)]
    if len(docs) and checks:
        docs = _verify(segment, docs, checks, counts, titles)
    return docs, counts[docs], titles[docs]


def _gram_hits(segment: Segment, present: np.ndarray, terms: list[str]):
    """(docs, counts, titles) of the documents in ``present`` holding every term, when
    every term is a gram (1- and 2-character queries, short IDs): the postings are the
    answer, intersected as sorted arrays, with no mask or count arrays the size of the
    segment per term."""
    if not terms:  # filters alone
        docs = np.flatnonzero(present)
        return docs, np.zeros(len(docs), dtype=np.int64), np.zeros(len(docs), dtype=np.int64)
    docs, counts = None, None
    postings = sorted((segment.postings("grams", term) for term in terms), key=lambda p: len(p[0]))
    for ids, weights in postings:  # the rarest first
        if docs is None:
            keep = present[ids]
            docs, counts = ids[keep], weights[keep].astype(np.int64)
        else:
            at = np.searchsorted(ids, docs)
            found = at < len(ids)
            found[found] = ids[at[found]] == docs[found]
            docs, counts = docs[found], counts[found] + weights[at[found]].astype(np.int64)
        if not len(docs):
            break
    titles = np.zeros(len(docs), dtype=np.int64)
    if len(docs):
        for term in terms:
            titles += np.isin(docs, segment.postings("tgrams", term)[0], assume_unique=True)
    return docs, counts, titles


def _tally(values: np.ndarray, codes: np.ndarray) -> dict[int, int]:
    tally = np.bincount(codes, minlength=len(values))
    found = np.flatnonzero(tally)
    return dict(zip(values[found].tolist(), tally[found].tolist(), strict=True))


def _mask(size: int, ids: np.ndarray) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[ids] = True
    return mask


def _candidates(segment: Segment, fieldname: str, size: int, term: str) -> np.ndarray:
    """Mask of the documents holding every gram of ``term`` (a superset of the answer)."""
    found = np.ones(size, dtype=bool)
    for gram in query_grams(term):
        ids = segment.postings(fieldname, gram)[0]
        if not len(ids):
            return np.zeros(size, dtype=bool)
        found &= _mask(size, ids)
    return found


@dataclass
class _Check:
    """A term that is not a gram: verified in the text, except where a token proves it."""

    term: str
    proven: np.ndarray | None  # documents holding the term as a whole word
    title_proven: np.ndarray | None  # … in their title
    title_maybe: np.ndarray  # documents whose title holds every gram of the term


def _proven(segment: Segment, size: int, term: str, counts, titles):
    title_maybe = _candidates(segment, "tgrams", size, term)
    word = word_token(term)
    if word is None:
        return None, None, title_maybe
    ids, weights = segment.postings("grams", word)
    counts[ids] += weights.astype(np.int64)
    title_ids = segment.postings("tgrams", word)[0]
    titles[title_ids] += 1
    return _mask(size, ids), _mask(size, title_ids), title_maybe


def _filter_mask(seg: _SegmentData, filters: Filters) -> np.ndarray:
    cols = seg.columns
    mask = np.ones(seg.size, dtype=bool)
    if filters.owner_id is not None:
        mask &= cols["c_owner"] == filters.owner_id
    if filters.manual_id is not None:
        mask &= cols["c_manual"] == filters.manual_id
    if filters.kind_code is not None:
        mask &= cols["c_kind"] == filters.kind_code
    if filters.updated_since is not None:
        mask &= cols["c_updated"] >= filters.updated_since
    return mask


def _verify(segment: Segment, docs: np.ndarray, checks: list[_Check], counts, titles):
    """The documents among ``docs`` whose folded text really contains every term checked.

    A document a word token proves is not read, unless its title might hold the term
    inside a longer word (the title mark then needs the text).
    """
    text, starts, lengths = segment.bytes_column("c_folded")  # folded "title\ntext"
    keep = np.ones(len(docs), dtype=bool)
    for check in checks:
        pattern = re.compile(re.escape(check.term.encode("utf-8", "surrogatepass")))
        if check.proven is not None:
            proven = check.proven[docs]
            body = np.flatnonzero(~proven & keep)
            unsure_title = check.title_maybe[docs] & ~check.title_proven[docs]
            title_only = np.flatnonzero(proven & unsure_title)
        else:
            body = np.flatnonzero(keep)
            title_only = np.zeros(0, dtype=np.int64)
        if len(body):
            found, in_title = _read(text, starts, lengths, docs[body], pattern, check.title_maybe)
            keep[body] = found > 0
            counts[docs[body]] += found
            titles[docs[body]] += in_title
        if len(title_only):
            _found, in_title = _read(text, starts, lengths, docs[title_only], pattern, None)
            titles[docs[title_only]] += in_title
    return docs[keep]


def _read(text, starts, lengths, docs: np.ndarray, pattern, title_maybe):
    """Occurrences of ``pattern`` in each document, and whether its title holds one.

    Regular expressions search the memory-mapped buffer in place (no copy per document);
    the title is the text before the first newline.
    """
    found = np.zeros(len(docs), dtype=np.int64)
    in_title = np.zeros(len(docs), dtype=np.int64)
    maybe = title_maybe[docs].tolist() if title_maybe is not None else [True] * len(docs)
    findall, search, newline = pattern.findall, pattern.search, _NEWLINE.search
    for i, start, end, title in zip(
        range(len(docs)), starts[docs].tolist(), (starts[docs] + lengths[docs]).tolist(), maybe,
        strict=True,
    ):  # fmt: skip
        hits = len(findall(text, start, end))
        if hits:
            found[i] = hits
            if title:
                first = search(text, start, end).start()
                in_title[i] = newline(text, start, first) is None
    return found, in_title
