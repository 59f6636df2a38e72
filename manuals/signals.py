"""Signals for derived data (the search index, cached print chapters).

Sent by every write path in manuals (tree.py, cloning, imports, handover), including
bulk ones that bypass model signals. Receivers should defer work with
``transaction.on_commit``.
"""

from django.dispatch import Signal

# kwargs: manual_id: int, section_ids: list[int] | None (None = the whole manual changed,
# e.g. a new owner, an archive, a bulk import).
sections_changed = Signal()
# kwargs: manual_id: int, section_ids: list[int] — rows deleted for good.
sections_deleted = Signal()
