"""Running a query against the index: candidates from gram postings, permissions and
filters from per-document columns, exact verification, ranking.

Everything the caller gets back — hits, the total, the per-agent counts — has already
passed the permission filter, so no count or snippet can leak an unreadable section.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate, chain, repeat
from operator import lshift, neg, or_

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from search.analysis import query_grams
from search.index import ACCESS_SHARED, ACCESS_TEMPLATE, IndexUnavailable, index_dir, open_index

# Stop intersecting gram postings once the next list is this many times the candidates.
VERIFY_INSTEAD = 16
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


@dataclass
class Outcome:
    total: int
    matches: list[Match]
    by_owner: Counter = field(default_factory=Counter)
    by_manual: Counter = field(default_factory=Counter)


class _Segment:
    """Per-segment document columns, loaded once (segments never change, only deletions)."""

    def __init__(self, leaf) -> None:
        self.columns = {name: array("q", leaf.column_reader(name)) for name in META_COLUMNS}
        self.size = leaf.doc_count_all()
        self.allowed_cache: dict[Scope, frozenset[int]] = {}
        self.live_cache: dict[tuple[Scope, int], frozenset[int]] = {}
        self._folded: tuple[object, object] | None = None

    def folded_column(self, leaf):
        """The folded-text column reader (its offsets take a pass over every document to
        load, so it is kept for as long as the same leaf reader is in use)."""
        cached = self._folded
        if cached is None or cached[0] is not leaf:
            cached = self._folded = (leaf, leaf.column_reader("c_folded", translate=False))
        return cached[1]

    def allowed(self, scope: Scope, deleted: frozenset[int]) -> frozenset[int]:
        cached = self.allowed_cache.get(scope)
        if cached is None:
            team = self.columns["c_team"]
            owner = self.columns["c_owner"]
            access = self.columns["c_access"]
            if scope.is_lead:
                cached = frozenset(d for d in range(self.size) if team[d] == scope.team_id)
            else:
                cached = frozenset(
                    d
                    for d in range(self.size)
                    if team[d] == scope.team_id
                    and (owner[d] == scope.user_id or access[d] & (ACCESS_SHARED | ACCESS_TEMPLATE))
                )
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
            live = self.live_cache[key] = cached - deleted
        return live


_segments: dict[str, _Segment] = {}
_segments_lock = threading.Lock()
_local = threading.local()


def _segment(leaf) -> _Segment:
    segid = leaf.segment().segment_id()
    with _segments_lock:
        seg = _segments.get(segid)
    if seg is None:
        seg = _Segment(leaf)
        with _segments_lock:
            if len(_segments) > 256:
                _segments.clear()
            _segments[segid] = seg
    return seg


def current_reader():
    """This thread's reader, reopened when the index changed or was swapped by a rebuild."""
    directory = index_dir()
    try:
        stamp = (directory.stat().st_ino, (directory / "SCHEMA_VERSION").stat().st_mtime_ns)
    except OSError as exc:
        raise IndexUnavailable(str(exc)) from exc
    cached = getattr(_local, "reader", None)
    if cached is not None:
        reader, old_stamp, ix = cached
        try:
            if old_stamp == stamp and ix.latest_generation() == reader.generation():
                return reader
        except Exception:
            pass
        reader.close()
        _local.reader = None
    ix = open_index(directory)
    try:
        reader = ix.reader()
    except Exception as exc:
        raise IndexUnavailable(str(exc)) from exc
    _local.reader = (reader, stamp, ix)
    return reader


def forget_reader() -> None:
    cached = getattr(_local, "reader", None)
    if cached is not None:
        cached[0].close()
        _local.reader = None


def _postings(leaf, fieldname: str, gram: str) -> dict[int, float]:
    """docnum → weight for one gram in one segment, deletions excluded."""
    try:
        matcher = leaf.postings(fieldname, gram.encode("utf-8", "surrogatepass"))
    except TermNotFound:
        return {}
    deleted = None
    if isinstance(matcher, FilterMatcher):
        deleted, matcher = matcher._ids, matcher.child
    ids: list[int] = []
    weights: list[float] = []
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        # Whole posting blocks at a time instead of one Python call per posting; the
        # delta-encoded ids are summed up in C.
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            ids.extend(accumulate(matcher._data[0]))
            matcher._read_weights()
            weights.extend(matcher._weights)
            matcher._next_block()
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    result = dict(zip(ids, weights, strict=True))
    if deleted:
        for docnum in deleted:
            result.pop(docnum, None)
    return result


def _doc_set(leaf, fieldname: str, gram: str) -> set[int]:
    return set(_postings(leaf, fieldname, gram))


def _candidates(leaf, term: str) -> tuple[set[int], dict[int, float] | None]:
    """Documents that may contain ``term``; with exact counts when the term is one gram."""
    if len(term) <= 2:
        weights = _postings(leaf, "grams", term)
        return set(weights), weights
    by_frequency = sorted(
        (leaf.doc_frequency("grams", g.encode("utf-8", "surrogatepass")), g)
        for g in query_grams(term)
    )
    found: set[int] | None = None
    for frequency, gram in by_frequency:
        if found is not None and frequency > VERIFY_INSTEAD * len(found):
            # Decoding this long posting list costs more than verifying the few candidates
            # left (every candidate is verified against the text anyway).
            break
        docs = _doc_set(leaf, "grams", gram)
        found = docs if found is None else found & docs
        if not found:
            return set(), None
    return found or set(), None


@dataclass
class _SegmentHits:
    seg: _Segment
    base: int
    docs: list[int]
    counts: dict
    titles: Counter

    def keys(self):
        """Rank keys (title hits, then occurrences, then recency), computed in C loops."""
        titles = map(lshift, map(self.titles.get, self.docs, repeat(0)), repeat(52))
        counts = map(int, map(self.counts.get, self.docs, repeat(1)))
        counts = map(lshift, map(min, counts, repeat(4095)), repeat(40))
        updated = map(self.seg.columns["c_updated"].__getitem__, self.docs)
        return map(or_, map(or_, titles, counts), updated)


def search_index(
    *, terms: list[str], scope: Scope, filters: Filters, offset: int = 0, limit: int = 20
) -> Outcome:
    """Every readable section containing all folded ``terms``, ranked; one page loaded."""
    reader = current_reader()
    hits, by_owner, by_manual = _matches(reader, terms, scope, filters)
    candidates = (
        zip(part.keys(), map(neg, map(part.base.__add__, part.docs)), part.docs, repeat(i))
        for i, part in enumerate(hits)
    )
    top = heapq.nlargest(offset + limit, chain.from_iterable(candidates))
    matches = []
    for _key, _order, d, i in top[offset:]:
        part = hits[i]
        cols = part.seg.columns
        stored = reader.stored_fields(part.base + d)
        matches.append(
            Match(
                section_id=cols["c_section"][d],
                manual_id=cols["c_manual"][d],
                owner_id=cols["c_owner"][d],
                updated=cols["c_updated"][d],
                kind_code=cols["c_kind"][d],
                title_terms=part.titles.get(d, 0),
                count=int(part.counts.get(d, 1)),
                title=stored["title"],
                text=stored["text"],
            )
        )
    total = sum(len(part.docs) for part in hits)
    return Outcome(total=total, matches=matches, by_owner=by_owner, by_manual=by_manual)


def search_ids(*, terms: list[str], scope: Scope, filters: Filters | None = None) -> set[int]:
    """The ids of every matching section (unranked): for checks and benchmarks."""
    hits, _owners, _manuals = _matches(current_reader(), terms, scope, filters or Filters())
    return {pk for part in hits for pk in map(part.seg.columns["c_section"].__getitem__, part.docs)}


def _matches(reader, terms: list[str], scope: Scope, filters: Filters):
    """Per segment: the readable documents containing every term, with their counts."""
    terms = [t for t in dict.fromkeys(terms) if t]
    hits: list[_SegmentHits] = []
    by_owner: Counter = Counter()
    by_manual: Counter = Counter()
    if not terms:
        return hits, by_owner, by_manual
    for leaf, base in reader.leaf_readers():
        seg = _segment(leaf)
        deleted = leaf.deleted_docs_set if leaf.has_deletions() else frozenset()
        docs: set[int] | frozenset[int] = seg.allowed(scope, deleted)
        counts: dict[int, float] = {}
        exact_terms, long_terms = [], []
        for term in sorted(terms, key=len, reverse=True):
            if not docs:
                break
            found, weights = _candidates(leaf, term)
            docs = found & docs  # iterates over the smaller set
            if weights is None:
                long_terms.append(term)
            else:
                exact_terms.append((term, weights))
        if docs and filters.any:
            docs = _apply_filters(docs, seg, filters)
        if not docs:
            continue
        title_terms: Counter = Counter()
        if len(exact_terms) == 1:
            counts = exact_terms[0][1]  # only read for docs that matched
        else:
            for _term, weights in exact_terms:
                for d in docs:
                    counts[d] = counts.get(d, 0) + weights[d]
        for term, _weights in exact_terms:
            title_terms.update(docs & set(_postings(leaf, "tgrams", term)))
        if long_terms:
            counts = dict(counts) if len(exact_terms) == 1 else counts
            docs = _verify(seg.folded_column(leaf), docs, long_terms, counts, title_terms)
        by_owner.update(map(seg.columns["c_owner"].__getitem__, docs))
        by_manual.update(map(seg.columns["c_manual"].__getitem__, docs))
        hits.append(_SegmentHits(seg=seg, base=base, docs=list(docs), counts=counts,
                                 titles=title_terms))  # fmt: skip
    return hits, by_owner, by_manual


def _apply_filters(docs: set[int], seg: _Segment, filters: Filters) -> set[int]:
    cols = seg.columns
    if filters.owner_id is not None:
        docs = {d for d in docs if cols["c_owner"][d] == filters.owner_id}
    if filters.manual_id is not None:
        docs = {d for d in docs if cols["c_manual"][d] == filters.manual_id}
    if filters.kind_code is not None:
        docs = {d for d in docs if cols["c_kind"][d] == filters.kind_code}
    if filters.updated_since is not None:
        docs = {d for d in docs if cols["c_updated"][d] >= filters.updated_since}
    return docs


def _verify(column, docs, long_terms, counts, title_terms) -> set[int]:
    """Keep documents whose folded text really contains every long term."""
    needles = [term.encode("utf-8", "surrogatepass") for term in long_terms]
    kept: set[int] = set()
    # Whoosh's VarBytesColumn reader (schema: c_folded), read without a method call each.
    get, base = column._dbfile.get, column._basepos
    offsets, lengths = column._offsets, column._lengths
    for d in docs:
        blob = get(base + offsets[d], lengths[d])
        title_end = blob.find(b"\n")
        extra_count, extra_title = 0, 0
        for needle in needles:
            hits = blob.count(needle)
            if not hits:
                break
            in_title = 0 <= blob.find(needle) < title_end
            extra_count += hits
            extra_title += in_title
        else:
            kept.add(d)
            counts[d] = counts.get(d, 0) + extra_count
            if extra_title:
                title_terms[d] += extra_title
    return kept
