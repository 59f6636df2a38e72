"""Keeping the index fresh: manuals' signals → index writes after the transaction commits.

With the PostgreSQL engine the write happens right after commit in the process that made
the change (the index is the database; every node sees it at once). With Whoosh only the
task worker writes the index: the request appends the section ids to the pending file and
asks for one ``index_pending`` task (queue "search"), never waiting for the writer lock;
the worker polls often, so an edit is searchable about a second later, and meanwhile
``search.results`` hides pending sections the asker may no longer read. Nothing here may
break the request that changed the data: failures ask for a rebuild.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from manuals.models import Section
from manuals.signals import sections_changed, sections_deleted

# The engines (Whoosh, numpy) are imported by the functions that use them, not here: this
# module is imported at every Django start (search.apps), also by processes that never
# touch the index, such as a print's render process.

log = logging.getLogger(__name__)
# Above this many sections a change is indexed by the worker, whatever the engine.
INLINE_LIMIT = 300


@receiver(sections_changed, dispatch_uid="search.sections_changed")
def _sections_changed(sender, *, manual_id: int, section_ids=None, **kwargs) -> None:
    ids = list(section_ids) if section_ids is not None else None
    transaction.on_commit(lambda: reindex_after_commit(manual_id=manual_id, section_ids=ids))


@receiver(sections_deleted, dispatch_uid="search.sections_deleted")
def _sections_deleted(sender, *, manual_id: int, section_ids, **kwargs) -> None:
    ids = list(section_ids)
    transaction.on_commit(lambda: reindex_after_commit(manual_id=manual_id, section_ids=ids))


def reindex_after_commit(*, manual_id: int, section_ids: list[int] | None) -> None:
    from search import backends, index

    engine = backends.current()
    if engine.writes_in_request:
        _write_in_database(engine, manual_id=manual_id, section_ids=section_ids)
        return
    try:
        if section_ids is None:
            if Section.objects.filter(manual_id=manual_id).count() > INLINE_LIMIT:
                _enqueue_manual(manual_id)
                return
            section_ids = list(
                Section.objects.filter(manual_id=manual_id).values_list("id", flat=True)
            )
            section_ids += index.indexed_ids_of_manual(manual_id)
        index.queue_pending(section_ids)
        if not index.index_exists():
            request_rebuild()  # the rebuild indexes the pending ids too
            return
        enqueue_pending()
    except Exception:
        log.exception("search: queueing manual %s for the index failed", manual_id)
        try:
            request_rebuild()
        except Exception:
            log.exception("search: could not ask for a rebuild either")


def _write_in_database(engine, *, manual_id: int, section_ids: list[int] | None) -> None:
    """The PostgreSQL engine: the index is the database, so write it now, here."""
    try:
        if section_ids is None:
            if Section.objects.filter(manual_id=manual_id).count() > INLINE_LIMIT:
                _enqueue_manual(manual_id)
                return
            engine.index_manual(manual_id=manual_id)
        elif len(section_ids) > INLINE_LIMIT:
            from search.tasks import index_section_ids

            index_section_ids.enqueue(sorted(set(section_ids)))
        else:
            from search.pg_engine import LOCK_TIMEOUT

            engine.index_sections(section_ids=section_ids, wait=LOCK_TIMEOUT)
    except Exception:
        log.exception("search: indexing manual %s failed; left to the worker", manual_id)
        try:
            if section_ids is not None:
                from search.tasks import index_section_ids

                index_section_ids.enqueue(sorted(set(section_ids)))
            else:
                _enqueue_manual(manual_id)
        except Exception:
            log.exception("search: could not queue the change either")


def _enqueue_manual(manual_id: int) -> None:
    from search.tasks import reindex_manual

    reindex_manual.enqueue(manual_id)


def enqueue_pending() -> None:
    """One ``index_pending`` task for whatever the pending file holds (deduplicated)."""
    from search import index

    if not index.claim_pending_run():
        return
    from search.tasks import index_pending

    try:
        index_pending.enqueue()
    except Exception:
        index.release_pending_run()
        raise


def request_rebuild() -> bool:
    """Ask the worker for a full rebuild unless one is already waiting; True if asked now."""
    from search import index

    if not index.mark_rebuild_requested():
        return False
    from search.tasks import rebuild_search_index

    try:
        rebuild_search_index.enqueue()
    except Exception:
        index.clear_rebuild_requested()
        raise
    return True
