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


def render_outline(
    manual: Manual, sections: list[Section], *, current_id: int | None, editable: bool
) -> SafeString:
    url_prefix = reverse("manuals:manual", kwargs={"manual_id": manual.pk})
    # Per-row costs add up over 5,000 rows: translate the kind labels once, and escape with
    # the standard library (Django's escape() adds a lazy-string wrapper to every call).
    kinds = {kind: html.escape(str(label)) for kind, label in Section.Kind.choices}
    private, lead_only = Section.Visibility.PRIVATE, Section.Visibility.LEAD
    toggle = html.escape(_("折叠/展开"))
    parts: list[str] = ['<ul class="outline-tree" role="tree">']
    open_depth = 1
    nested = nest(sections)
    for index, (section, depth) in enumerate(nested):
        while open_depth > depth:
            parts.append("</ul></li>")
            open_depth -= 1
        next_depth = nested[index + 1][1] if index + 1 < len(nested) else 0
        has_children = next_depth > depth
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
            + (' aria-expanded="true"' if has_children else "")
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
        if has_children:
            parts.append('<ul role="group">')
            open_depth += 1
        else:
            parts.append("</li>")
    while open_depth > 1:
        parts.append("</ul></li>")
        open_depth -= 1
    parts.append("</ul>")
    return mark_safe("".join(parts))  # every user string above went through escape()


def breadcrumbs(section: Section, outline: list[Section]) -> list[Section]:
    """Ancestors of ``section`` among the outline's rows (no extra query)."""
    return [s for s in outline if s.is_ancestor_of(section)]
