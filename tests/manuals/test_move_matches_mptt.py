"""manuals.tree moves subtrees with its own bounded UPDATE; it must agree with django-mptt."""

import random

from manuals.integrity import check_trees
from manuals.models import Section
from manuals.tree import move_section
from tests.conftest import build_manual

OUTLINE = [
    (f"章{c}", [(f"章{c}.{s}", [(f"章{c}.{s}.{t}", []) for t in range(3)]) for s in range(3)])
    for c in range(4)
]
POSITIONS = ["first-child", "last-child", "left", "right"]


def shape(manual):
    rows = Section.objects.filter(manual=manual).order_by("lft")
    by_id = {s.pk: s.title for s in rows}
    return [(s.title, s.level, s.lft, s.rght, by_id.get(s.parent_id)) for s in rows]


def test_random_moves_leave_the_same_tree_as_django_mptt(alice):
    ours = build_manual(alice, "手册", OUTLINE)
    reference = build_manual(alice, "手册", OUTLINE)
    rng = random.Random(7)
    moves = 0
    while moves < 150:
        ours_rows = {s.title: s for s in Section.objects.filter(manual=ours, level__gt=0)}
        title, target_title = rng.sample(sorted(ours_rows), 2)
        node, target = ours_rows[title], ours_rows[target_title]
        if node.lft <= target.lft and target.rght <= node.rght:
            continue  # under its own subtree: refused, tested elsewhere
        position = rng.choice(POSITIONS)
        move_section(section=node, target=target, position=position, user=alice)
        Section.objects.get(manual=reference, title=title).move_to(
            Section.objects.get(manual=reference, title=target_title), position
        )
        assert shape(ours) == shape(reference), (title, position, target_title)
        moves += 1
    assert check_trees() == []


def test_restoring_under_a_trashed_parent_moves_to_the_end_like_django_mptt(alice):
    from manuals.tree import purge_section, restore_section, trash_section

    manual = build_manual(alice, "手册", OUTLINE)
    child = Section.objects.get(manual=manual, title="章0.1")
    trash_section(section=child, user=alice)
    trash_section(section=Section.objects.get(manual=manual, title="章0"), user=alice)
    restore_section(section=child, user=alice)
    purge_section(section=Section.objects.get(manual=manual, title="章0"), user=alice)
    chapters = [s.title for s in manual.outline() if s.level == 1]
    assert chapters == ["章1", "章2", "章3", "章0.1"]
    assert [s.title for s in manual.outline() if s.level == 2][-3:] == [
        "章0.1.0",
        "章0.1.1",
        "章0.1.2",
    ]
    assert check_trees() == []
