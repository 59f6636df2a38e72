"""A manual (or one chapter) read as one document, served in chunks.

A 5,000-section manual cannot be one page: the reader gets a chunk of sections in outline
order and the next chunk when scrolling near its end. A chunk is addressed by the section
it starts at (its position in the reader's outline), so a chunk never contains a section
the reader may not read: positions are counted among the rows of the reader's own outline.
"""

from __future__ import annotations

from dataclasses import dataclass

from manuals.models import OutlinePosition as Position
from manuals.models import Section, nest

CHUNK_SIZE = 40
# Fields a chunk shows; bodies are loaded for the chunk's rows only.
CHUNK_FIELDS = (
    "id", "manual_id", "title", "kind", "visibility", "body", "version", "updated_at",
    "origin_note", "trashed_at",
)  # fmt: skip


@dataclass
class Chunk:
    """Sections [start, start + size) of the scope, each with ``depth`` (1 = the scope's
    top) and ``heading_level`` set, and the sections that start the chunks around it."""

    rows: list[Section]
    previous_id: int | None
    next_id: int | None
    first_id: int | None
    total: int


def scope_rows(
    outline: list[Section] | list[Position], scope: Section | None
) -> list[tuple[Section | Position, int]]:
    """The outline rows of ``scope`` (the whole manual when None) with their depth, in
    tree order: a chapter's rows are the chapter and the rows below it."""
    nested = nest(outline)
    if scope is None:
        return nested
    start = next((i for i, (s, _d) in enumerate(nested) if s.pk == scope.pk), None)
    if start is None:
        return []
    top = nested[start][1]
    rows = [(nested[start][0], 1)]
    for section, depth in nested[start + 1 :]:
        if depth <= top:
            break
        rows.append((section, depth - top + 1))
    return rows


def chunk_of(
    *,
    outline: list[Section] | list[Position],
    scope: Section | None = None,
    start_id: int | None = None,
    before: bool = False,
    size: int | None = None,
) -> Chunk | None:
    """The chunk starting at ``start_id`` (the scope's first when None), or with
    ``before`` the chunk that ends just before it. None when ``start_id`` is not a row of
    the scope (hidden, trashed, elsewhere)."""
    size = size or CHUNK_SIZE
    rows = scope_rows(outline, scope)
    ids = [s.pk for s, _d in rows]
    if start_id is None:
        index = 0
    elif start_id in ids:
        index = ids.index(start_id)
    else:
        return None
    if before:
        index, end = max(0, index - size), index
    else:
        end = min(len(rows), index + size)
    shown = rows[index:end]
    bodies = {
        s.pk: s
        for s in Section.objects.filter(pk__in=[s.pk for s, _d in shown]).only(*CHUNK_FIELDS)
    }
    shown_rows = []
    for row, depth in shown:
        if row.pk in bodies:
            section = bodies[row.pk]
            section.depth = depth
            section.heading_level = min(depth + 1, 6)  # h1 is the manual's or chapter's title
            shown_rows.append(section)
    return Chunk(
        rows=shown_rows,
        previous_id=ids[max(0, index - size)] if index > 0 else None,
        next_id=ids[end] if end < len(ids) else None,
        first_id=ids[index] if shown else None,
        total=len(rows),
    )


def neighbours(outline: list[Section], section: Section) -> tuple[Section | None, Section | None]:
    """The sections before and after ``section`` in the reader's outline."""
    ids = [s.pk for s in outline]
    if section.pk not in ids:
        return None, None
    i = ids.index(section.pk)
    return (outline[i - 1] if i > 0 else None), (outline[i + 1] if i + 1 < len(ids) else None)
