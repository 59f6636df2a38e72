"""What an export contains: the sections a person may read, in outline order."""

from __future__ import annotations

from manuals.models import Manual, Section


def readable_outline(*, manual: Manual, user=None) -> list[tuple[int, Section]]:
    """(depth, section) for every live section ``user`` may read (all when user is None).

    A readable section under a hidden one moves up to its nearest readable ancestor, so
    depths never skip.
    """
    sections = Section.objects.filter(manual=manual, level__gt=0).live()
    if user is not None:
        sections = sections.readable_by(user)
    result: list[tuple[int, Section]] = []
    open_rght: list[int] = []
    for section in sections.order_by("lft"):
        while open_rght and open_rght[-1] < section.lft:
            open_rght.pop()
        result.append((len(open_rght) + 1, section))
        open_rght.append(section.rght)
    return result
