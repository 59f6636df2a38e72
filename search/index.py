"""The index on disk: the single writer, indexing and rebuilding (``whoosh_store`` holds
the schema and everything else that knows Whoosh).

One document per live, non-root section. Whoosh allows one writer at a time, so every
write goes through ``writer_lock()`` — an ``fcntl`` lock on a file beside the index.
Only the task worker writes: web processes leave the section ids in a pending file
(``queue_pending``) and ask for an ``index_pending`` task; whoever holds the lock next
indexes them, so no edit is lost and no request waits for the lock.

Rebuilds write a fresh directory and swap it in, so search keeps answering meanwhile and a
failed rebuild leaves the old index in place.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from manuals.models import Section
from search import segment_pool, whoosh_store
from search.analysis import html_to_text
from search.folding import fold

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3  # 2: packed posting blocks; 3: ASCII 3-5-grams and word tokens
KIND_CODES = {kind: code for code, kind in enumerate(Section.Kind.values, start=1)}
KIND_BY_CODE = {code: kind for kind, code in KIND_CODES.items()}
# Rows per rebuilt segment, built by one of settings.SEARCH_REBUILD_WORKERS processes. A
# gram costs the same in a segment whatever its postings, and a segment of twice the rows
# holds only ~1.6× the grams: 50,000 rows built at 441 a CPU-second, 25,000 at 352 (real
# text, before the 1- and 2-grams were counted with numpy: now 620 a CPU-second; ~0.9 GB
# at a worker's peak), and a big index has half the segments to query.
REBUILD_SEGMENT = 50_000
# Edits write small segments; segments of similar size (a "tier": 1–7 documents, 8–63,
# 64–511, 512–4095) are merged together once MERGE_AT of them pile up, by the worker after
# it indexed pending edits; a writer merges at once when a tier holds MERGE_INLINE_AT.
# Rebuilt segments (REBUILD_SEGMENT) are never merged.
TIER_BASE = 8
SMALL_TIERS = 4
MERGE_AT = 8
MERGE_INLINE_AT = 16
# Bit flags in the c_access column, read by the query's permission filter.
ACCESS_SHARED = 1  # 团队共享: the whole team reads it
ACCESS_TEMPLATE = 2  # a team template: the whole team reads it
ACCESS_LEAD = 4  # 主管可见 (or shared): the team's lead reads it


class IndexUnavailable(Exception):
    """The index directory is missing, unreadable or from another schema version."""


class SearchTooSlow(IndexUnavailable):
    """The query ran past the engine's time limit (``pg_engine.QUERY_TIMEOUT``); callers
    that can answer from the database instead (find in one manual) treat it as an
    unavailable index, the results page says what to do."""


def index_dir() -> Path:
    return Path(settings.SEARCH_INDEX_DIR)


def _lock_path() -> Path:
    return index_dir().with_name(index_dir().name + ".lock")


def _pending_path() -> Path:
    return index_dir().with_name(index_dir().name + ".pending")


def _version_path(directory: Path) -> Path:
    return directory / "SCHEMA_VERSION"


def open_index(directory: Path | None = None) -> whoosh_store.Index:
    directory = directory or index_dir()
    try:
        if _version_path(directory).read_text().strip() != str(SCHEMA_VERSION):
            raise IndexUnavailable(f"{directory}: index from another version")
        return whoosh_store.open_dir(directory)
    except IndexUnavailable:
        raise
    except Exception as exc:  # missing dir, empty dir, truncated TOC, unpickling errors…
        raise IndexUnavailable(f"{directory}: {exc}") from exc


def create_index(directory: Path) -> whoosh_store.Index:
    directory.mkdir(parents=True, exist_ok=True)
    ix = whoosh_store.create_in(directory)
    _version_path(directory).write_text(str(SCHEMA_VERSION))
    return ix


@contextmanager
def writer_lock(*, timeout: float | None = None) -> Iterator[bool]:
    """Hold the one writer lock; yields False if it was not free within ``timeout``."""
    path = _lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline else 0))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.02)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def queue_pending(section_ids: Iterable[int]) -> None:
    _pending_path().parent.mkdir(parents=True, exist_ok=True)
    with open(_pending_path(), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write("".join(f"{pk}\n" for pk in section_ids))


def _take_pending() -> set[int]:
    path = _pending_path()
    if not path.exists():
        return set()
    with open(path, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        ids = {int(line) for line in handle.read().split() if line.isdigit()}
        handle.truncate(0)
    return ids


def pending_ids() -> set[int]:
    """The sections waiting in the pending file (read, left there)."""
    path = _pending_path()
    if not path.exists():
        return set()
    with open(path) as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        return {int(line) for line in handle.read().split() if line.isdigit()}


def has_pending() -> bool:
    path = _pending_path()
    return path.exists() and path.stat().st_size > 0


# A queued index_pending task not yet started; older than this, it is taken as lost.
PENDING_RUN_LOST_AFTER = 120


def claim_pending_run() -> bool:
    """Whether the caller should enqueue an ``index_pending`` task: True unless one is
    queued and not started yet (it will take whatever is in the pending file then)."""
    marker = _marker("pending")
    marker.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        try:
            if time.time() - marker.stat().st_mtime < PENDING_RUN_LOST_AFTER:
                return False
        except FileNotFoundError:  # the task just started: it may have missed our ids
            return claim_pending_run()
        marker.touch()
        return True


def release_pending_run() -> None:
    """Called by the task as it starts, before it takes the pending ids: ids queued from
    now on ask for a new run."""
    _marker("pending").unlink(missing_ok=True)


# --- documents ------------------------------------------------------------------------


def indexable_sections():
    """Sections that are search results: live and not a manual's hidden root."""
    return Section.objects.filter(trashed_at__isnull=True, level__gt=0)


def _rows(section_ids: Iterable[int] | None = None, *, manual_ids=None):
    rows = indexable_sections()
    if section_ids is not None:
        rows = rows.filter(pk__in=list(section_ids))
    if manual_ids is not None:
        rows = rows.filter(manual_id__in=list(manual_ids))
    return rows.values_list(
        "id", "title", "body", "kind", "visibility", "updated_at", "manual_id",
        "manual__owner_id", "manual__team_id", "manual__is_template",
    ).order_by("id")  # fmt: skip


def _document(row) -> dict:
    pk, title, body, kind, visibility, updated, manual_id, owner_id, team_id, is_template = row
    text = html_to_text(body)
    folded = fold(title + "\n" + text)
    access = ACCESS_TEMPLATE if is_template else 0
    if visibility == Section.Visibility.SHARED:
        access |= ACCESS_SHARED | ACCESS_LEAD
    elif visibility == Section.Visibility.LEAD:
        access |= ACCESS_LEAD
    return {
        "id": str(pk),
        "manual": str(manual_id),
        "title": title,
        "text": text,
        "grams": folded,
        "tgrams": fold(title),
        "c_folded": folded.encode("utf-8", "surrogatepass"),
        "c_section": pk,
        "c_manual": manual_id,
        "c_owner": owner_id,
        "c_team": team_id,
        "c_access": access,
        "c_updated": int(updated.timestamp()),
        "c_kind": KIND_CODES.get(kind, 0),
    }


def _apply(writer, section_ids: set[int]) -> int:
    """Make the index match the database for ``section_ids``; returns documents written."""
    for pk in section_ids:
        writer.delete_by_term("id", str(pk))
    written = 0
    for start in range(0, len(section_ids), 500):
        chunk = sorted(section_ids)[start : start + 500]
        for row in _rows(chunk).iterator(chunk_size=500):
            writer.add_document(**_document(row))
            written += 1
    return written


def index_sections(*, section_ids: Iterable[int], wait: float | None = None) -> bool:
    """Re-index these sections (deleted, trashed or root ones are removed).

    Returns False when the writer lock was busy for ``wait`` seconds: the ids are then
    queued and indexed by the next writer.
    """
    ids = set(section_ids)
    with writer_lock(timeout=wait) as locked:
        if not locked:
            queue_pending(ids)
            return False
        ids |= _take_pending()
        if not ids:
            return True
        try:
            ix = open_index()
        except IndexUnavailable:
            queue_pending(ids)  # kept for after the rebuild
            raise
        _write(ix, ids, mergetype=whoosh_store.NO_MERGE)
        if _crowded_tiers(whoosh_store.segment_sizes(ix), MERGE_INLINE_AT):
            try:
                whoosh_store.segment_writer(ix).commit(mergetype=_merge_crowded_tiers)
            except Exception:  # the edits are in; the worker or the next writer merges
                log.exception("search: merging small segments failed")
    return True


def _write(ix: whoosh_store.Index, ids: set[int], *, mergetype) -> None:
    """One writer commit for ``ids``; on failure they go back to the pending file, so
    the next writer (or a rebuild) still indexes them."""
    writer = whoosh_store.segment_writer(ix)
    try:
        _apply(writer, ids)
        writer.commit(mergetype=mergetype)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        queue_pending(ids)
        raise


def _tier(size: int) -> int | None:
    """The tier of a segment of ``size`` documents; None for big ones."""
    tier = int(math.log(max(size, 1), TIER_BASE))
    return tier if tier < SMALL_TIERS else None


def _crowded_tiers(sizes: list[int], limit: int) -> set[int]:
    tiers: dict[int, int] = {}
    for size in sizes:
        tier = _tier(size)
        if tier is not None:
            tiers[tier] = tiers.get(tier, 0) + 1
    return {tier for tier, count in tiers.items() if count >= limit}


def _in_crowded_tiers(sizes: list[int]) -> list[bool]:
    """Merge policy: merge each small tier holding MERGE_AT segments or more."""
    crowded = _crowded_tiers(sizes, MERGE_AT)
    return [_tier(size) in crowded for size in sizes]


_merge_crowded_tiers = whoosh_store.merge_policy(_in_crowded_tiers)


def merge_wanted() -> bool:
    """Whether small segments have piled up enough for the worker to merge them."""
    try:
        return bool(_crowded_tiers(whoosh_store.segment_sizes(open_index()), MERGE_AT))
    except IndexUnavailable:
        return False


def merge_segments() -> bool:
    """Merge crowded tiers of small segments (and index pending edits on the way)."""
    with writer_lock():
        ix = open_index()
        if not _crowded_tiers(whoosh_store.segment_sizes(ix), MERGE_AT):
            return False
        _write(ix, _take_pending(), mergetype=_merge_crowded_tiers)
    if has_pending():  # edits that waited on the lock while we merged
        index_sections(section_ids=[])
    return True


def index_manual_sections(*, manual_id: int) -> int:
    """Re-index one whole manual (its sections, whatever their state)."""
    ids = set(Section.objects.filter(manual_id=manual_id).values_list("id", flat=True))
    ids |= indexed_ids_of_manual(manual_id)
    index_sections(section_ids=ids)
    return len(ids)


def indexed_ids_of_manual(manual_id: int) -> set[int]:
    try:
        ix = open_index()
    except IndexUnavailable:
        return set()
    return whoosh_store.indexed_ids(ix, manual_id=manual_id)


def index_exists() -> bool:
    try:
        open_index()
    except IndexUnavailable:
        return False
    return True


def _marker(what: str) -> Path:
    return index_dir().with_name(f"{index_dir().name}.{what}-requested")


def mark_requested(what: str, *, within: float) -> bool:
    """Note that ``what`` (a rebuild, a merge) was asked for; False if it already was
    within the last ``within`` seconds."""
    marker = _marker(what)
    marker.parent.mkdir(parents=True, exist_ok=True)
    try:
        if time.time() - marker.stat().st_mtime < within:
            return False
    except FileNotFoundError:
        pass
    marker.write_text(str(time.time()))
    return True


def mark_rebuild_requested() -> bool:
    """Note that a rebuild was asked for; False if one was asked within the last hour."""
    return mark_requested("rebuild", within=3600)


def clear_rebuild_requested() -> None:
    _marker("rebuild").unlink(missing_ok=True)


def rebuild_requested() -> bool:
    return _marker("rebuild").exists()


# --- rebuild and check ---------------------------------------------------------------


@dataclass
class RebuildReport:
    sections: int
    seconds: float


def rebuild_index(
    *, progress: Callable[[int, int], None] | None = None, batch: int = 2000
) -> RebuildReport:
    """Index every section from the database into a fresh directory, then swap it in."""
    started = time.monotonic()
    target = index_dir()
    fresh = target.with_name(target.name + ".new")
    with writer_lock():
        _take_pending()  # everything pending is in the database snapshot we read now
        shutil.rmtree(fresh, ignore_errors=True)
        ix = create_index(fresh)
        total = indexable_sections().count()
        workers = settings.SEARCH_REBUILD_WORKERS if total > REBUILD_SEGMENT else 1
        done = 0
        try:
            segments = []
            for segment, count in segment_pool.built_in_order(
                _build_segment, directory=fresh, batches=_row_batches(batch), workers=workers
            ):
                segments.append(segment)
                done += count
                if progress:
                    progress(done, total)
            whoosh_store.add_segments(ix, segments)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        old = target.with_name(target.name + f".old-{os.getpid()}")
        if target.exists():
            os.replace(target, old)
        os.replace(fresh, target)
        shutil.rmtree(old, ignore_errors=True)
        # Edits that waited on the lock while we rebuilt.
        pending = _take_pending()
        if pending:
            _write(open_index(), pending, mergetype=whoosh_store.NO_MERGE)
    clear_rebuild_requested()
    if has_pending():
        index_sections(section_ids=[])
    return RebuildReport(sections=done, seconds=time.monotonic() - started)


def _row_batches(chunk_size: int) -> Iterator[list]:
    """Every indexable row, in batches of one rebuilt segment (REBUILD_SEGMENT rows)."""
    batch = []
    for row in _rows().iterator(chunk_size=chunk_size):
        batch.append(row)
        if len(batch) == REBUILD_SEGMENT:
            yield batch
            batch = []
    if batch:
        yield batch


def _build_segment(directory: Path, rows: list) -> tuple[object, int]:
    """One finished segment of the fresh index in ``directory`` (run by a rebuild's
    worker process, or by the rebuild itself)."""
    writer = whoosh_store.BulkGramWriter(whoosh_store.open_dir(directory), lock=False)
    try:
        for row in rows:
            writer.add_bulk(_document(row))
    except BaseException:
        writer.cancel()
        raise
    return writer.finish_segment(), len(rows)


@dataclass
class Drift:
    missing: list[int]  # in the database, not in the index
    extra: list[int]  # in the index, not searchable in the database
    stale: list[int]  # indexed with other content or permissions
    counts: int = 0  # PostgreSQL: character counts that disagree with the rows

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.counts)


def check_index() -> Drift:
    """Compare every indexed document with the database (raises IndexUnavailable)."""
    ix = open_index()
    expected = {row[0]: _fingerprint(_document(row)) for row in _rows().iterator(chunk_size=2000)}
    seen: dict[int, tuple] = {}
    for stored, values in whoosh_store.documents(ix, FINGERPRINT_COLUMNS):
        seen[int(stored["id"])] = (stored["title"], stored["text"], *values)
    missing = sorted(set(expected) - set(seen))
    extra = sorted(set(seen) - set(expected))
    stale = sorted(pk for pk in set(seen) & set(expected) if seen[pk] != expected[pk])
    return Drift(missing=missing, extra=extra, stale=stale)


FINGERPRINT_COLUMNS = ("c_manual", "c_owner", "c_team", "c_access", "c_updated", "c_kind")


def _fingerprint(doc: dict) -> tuple:
    return (doc["title"], doc["text"], *(doc[name] for name in FINGERPRINT_COLUMNS))
