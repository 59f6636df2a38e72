"""Signals for derived data: the search index (``search.indexing`` receives them).

Sent by every write path of manuals (tree.py, bulk inserts, clones, template updates,
copies, handovers, imports, deleting a manual), including those that bypass model
signals. Receivers defer their work with ``transaction.on_commit``. Printed chapters need
no signal: the chapter cache is keyed by content.
"""

from django.dispatch import Signal

# kwargs: manual_id: int, section_ids: list[int] | None (None = the whole manual changed,
# e.g. a new owner, an archive, a bulk import).
sections_changed = Signal()
# kwargs: manual_id: int, section_ids: list[int] — rows deleted for good.
sections_deleted = Signal()
