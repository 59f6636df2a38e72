"""The outline sidebar (like Word's Navigation Pane), rendered in Python.

A manual can hold 5,000 sections; a recursive template include per node costs far more
than building the nested list here, so the outline is one string built in one pass over
the rows ``Manual.outline()`` loads in one query.
"""

from __future__ import annotations

import html

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from manuals.models import Manual, Section, nest


def readable_outline(*, manual: Manual, user=None) -> list[tuple[int, Section]]:
    """(depth, section) for every live section ``user`` may read (all when user is None),
    in outline order: what an export contains. A readable section under a hidden one moves
    up to its nearest readable ancestor, so depths never skip."""
    sections = Section.objects.filter(manual=manual, level__gt=0).live()
    if user is not None:
        sections = sections.readable_by(user)
    return [(depth, section) for section, depth in nest(sections.in_outline_order())]


# Up to this many rows the whole outline comes with the page. A longer one (a 5,000-row
# outline is 1.7 MB of HTML) sends the chapters and the path to the current section; a
# branch's children load when it is opened or when the section in view lies inside it.
OUTLINE_FULL_ROWS = 400


def _open_rows(
    nested: list[tuple[Section, int]], open_ids: set[int] | None
) -> list[tuple[Section, int, bool]]:
    """(section, depth, has_children) for the rows to send: all when ``open_ids`` is None,
    else the top rows and the children of every row in ``open_ids`` whose parent is sent."""
    rows = []
    path: list[tuple[int, int, bool]] = []  # (id, depth, sent) of the rows above
    for index, (section, depth) in enumerate(nested):
        has_children = index + 1 < len(nested) and nested[index + 1][1] > depth
        while path and path[-1][1] >= depth:
            path.pop()
        parent = path[-1] if path else None
        sent = open_ids is None or parent is None or (parent[2] and parent[0] in open_ids)
        path.append((section.pk, depth, sent))
        if sent:
            rows.append((section, depth, has_children))
    return rows


def _render_rows(
    manual: Manual,
    rows: list[tuple[Section, int, bool]],
    *,
    current_id: int | None,
    editable: bool,
    top: int = 1,
) -> list[str]:
    url_prefix = reverse("manuals:manual", kwargs={"manual_id": manual.pk})
    # Per-row costs add up over 5,000 rows: translate the kind labels once, and escape with
    # the standard library (Django's escape() adds a lazy-string wrapper to every call).
    kinds = {kind: html.escape(str(label)) for kind, label in Section.Kind.choices}
    private, lead_only = Section.Visibility.PRIVATE, Section.Visibility.LEAD
    toggle = html.escape(_("折叠/展开"))
    parts: list[str] = []
    open_depth = top
    for index, (section, depth, has_children) in enumerate(rows):
        while open_depth > depth:
            parts.append("</ul></li>")
            open_depth -= 1
        next_depth = rows[index + 1][1] if index + 1 < len(rows) else 0
        loaded = next_depth > depth
        # The database admits only known kinds, but every attribute is escaped anyway.
        classes = ["outline-item", "kind-" + html.escape(section.kind, quote=True)]
        section_id = int(section.id)
        title = html.escape(section.title)
        if section_id == current_id:
            classes.append("current")
        if section.visibility == private:
            classes.append("private")
        elif section.visibility == lead_only:
            classes.append("lead-only")
        parts.append(
            f'<li class="{" ".join(classes)}" role="treeitem" data-id="{section_id}" '
            f'data-level="{int(depth)}" aria-level="{int(depth)}"'
            + (' aria-expanded="true"' if loaded else "")
            + (' aria-expanded="false" data-lazy="1"' if has_children and not loaded else "")
            + (' draggable="true"' if editable else "")
            + ">"
            + '<div class="outline-row">'
            + (
                f'<button type="button" class="toggle" aria-label="{toggle}" tabindex="-1">'
                "</button>"
                if has_children
                else '<span class="toggle-spacer"></span>'
            )
            + f'<a href="{url_prefix}section/{section_id}/" '
            # The whole title (long ones are cut with an ellipsis) and the kind.
            + f'title="{title} · {kinds.get(section.kind, "")}"'
            + (' aria-current="page"' if section_id == current_id else "")
            + f">{title}</a></div>"
        )
        if loaded:
            parts.append('<ul role="group">')
            open_depth += 1
        else:
            parts.append("</li>")
    while open_depth > top:
        parts.append("</ul></li>")
        open_depth -= 1
    return parts


def _path_ids(nested: list[tuple[Section, int]], section_id: int | None) -> set[int] | None:
    """Ids of the row ``section_id`` and its ancestors among ``nested``; None if absent."""
    path: list[tuple[int, int]] = []
    for section, depth in nested:
        while path and path[-1][1] >= depth:
            path.pop()
        path.append((section.pk, depth))
        if section.pk == section_id:
            return {pk for pk, _d in path}
    return None


def render_outline(
    manual: Manual, sections: list[Section], *, current_id: int | None, editable: bool
) -> SafeString:
    nested = nest(sections)
    open_ids = None
    if len(nested) > OUTLINE_FULL_ROWS:
        open_ids = _path_ids(nested, current_id) or set()
    rows = _open_rows(nested, open_ids)
    parts = _render_rows(manual, rows, current_id=current_id, editable=editable)
    # every user string in the rows went through escape()
    return mark_safe('<ul class="outline-tree" role="tree">' + "".join(parts) + "</ul>")


def render_outline_branch(
    manual: Manual, sections: list[Section], *, section_id: int, editable: bool
) -> SafeString | None:
    """The children of ``section_id`` and of each of its ancestors, one
    ``<ul role="group" data-parent="…">`` per row of the path from the top down, so the
    page can open a branch it was sent closed. None when the row is not in ``sections``."""
    nested = nest(sections)
    path = _path_ids(nested, section_id)
    if path is None:
        return None
    rows = _open_rows(nested, path)
    groups = []
    for index, (section, depth, _has) in enumerate(rows):
        if section.pk not in path:
            continue
        children = []
        for row in rows[index + 1 :]:
            if row[1] <= depth:
                break
            if row[1] == depth + 1:
                children.append((row[0], row[1], row[2]))
        if not children:
            continue
        inner = _render_rows(manual, children, current_id=None, editable=editable, top=depth + 1)
        groups.append(f'<ul role="group" data-parent="{int(section.pk)}">{"".join(inner)}</ul>')
    return mark_safe("".join(groups))


def breadcrumbs(section: Section, outline: list[Section]) -> list[Section]:
    """Ancestors of ``section`` among the outline's rows (no extra query)."""
    return [s for s in outline if s.is_ancestor_of(section)]
