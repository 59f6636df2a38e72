"""The search index behind one interface, with two engines.

``whoosh``: an index on the local disk (``search.index`` + ``search.engine``), written only
by the task worker; fast and embedded, for one machine. ``postgres``: the index is a table
in the database (``search.pg_engine``), written by whoever committed the change, so every
web node sees every commit at once. ``settings.SEARCH_ENGINE`` picks one
(``LANBITOU_SEARCH_ENGINE``). Both give the same answers: exact substrings of the folded
text, permissions and filters applied inside the query, exact counts, the same ranking keys.

Callers (``search.results``, views, tasks, commands, health checks) use ``current()`` and
never import an engine's modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings

from search import index
from search.engine import Filters, Hidden, Outcome, Scope
from search.index import Drift, IndexUnavailable, RebuildReport

Unavailable = IndexUnavailable
__all__ = [
    "Drift",
    "Filters",
    "Hidden",
    "Outcome",
    "RebuildReport",
    "Scope",
    "Unavailable",
    "current",
]


class WhooshEngine:
    """Today's Whoosh index; writes happen in the worker (``search.tasks``)."""

    name = "whoosh"
    writes_in_request = False

    def search(self, *, terms: list[str], scope: Scope, filters: Filters, offset: int = 0,
               limit: int = 20, unreadable: frozenset[int] | Hidden = frozenset(),
               ) -> Outcome:  # fmt: skip
        from search.engine import search_index

        return search_index(terms=terms, scope=scope, filters=filters, offset=offset,
                            limit=limit, unreadable=unreadable)  # fmt: skip

    def search_ids(self, *, terms: list[str], scope: Scope, filters: Filters | None = None):
        from search.engine import search_ids

        return search_ids(terms=terms, scope=scope, filters=filters)

    def index_sections(self, *, section_ids: Iterable[int]) -> None:
        """Make the index match the database for these sections (and any pending ones)."""
        index.index_sections(section_ids=section_ids)

    def index_manual(self, *, manual_id: int) -> int:
        return index.index_manual_sections(manual_id=manual_id)

    def indexed_ids_of_manual(self, manual_id: int) -> set[int]:
        return index.indexed_ids_of_manual(manual_id)

    def rebuild(self, *, progress: Callable[[int, int], None] | None = None) -> RebuildReport:
        return index.rebuild_index(progress=progress)

    def check(self) -> Drift:
        return index.check_index()

    def exists(self) -> bool:
        return index.index_exists()

    def unavailable_reason(self) -> str | None:
        """Why searches cannot be answered now, or None."""
        try:
            index.open_index().close()
        except IndexUnavailable as exc:
            return str(exc)
        return None

    def pending_ids(self) -> set[int]:
        return index.pending_ids()

    def where(self) -> str:
        return str(index.index_dir())


def current() -> WhooshEngine:
    """The configured engine (read at each call, so tests can switch it)."""
    if settings.SEARCH_ENGINE == "postgres":
        from search.pg_engine import PostgresEngine

        return PostgresEngine()
    if settings.SEARCH_ENGINE == "whoosh":
        return WhooshEngine()
    raise ValueError(f"unknown search engine {settings.SEARCH_ENGINE!r}")
