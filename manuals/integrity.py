"""Checks that every manual's nested set is intact (``manage.py check_trees``)."""

from __future__ import annotations

from itertools import groupby

from manuals.models import Manual, Section


def check_tree_rows(tree_id: int, rows: list[tuple]) -> list[str]:
    """Problems in one tree; ``rows`` are (id, parent_id, lft, rght, level, manual_id)
    ordered by lft."""
    problems: list[str] = []
    roots = [r for r in rows if r[1] is None]
    if len(roots) != 1:
        problems.append(f"tree {tree_id}: {len(roots)} roots")
    if {r[5] for r in rows} != {rows[0][5]}:
        problems.append(f"tree {tree_id}: sections of several manuals in one tree")
    n = len(rows)
    bounds = sorted([r[2] for r in rows] + [r[3] for r in rows])
    if bounds != list(range(1, 2 * n + 1)):
        problems.append(f"tree {tree_id}: lft/rght are not exactly 1..{2 * n}")
    by_id = {r[0]: r for r in rows}
    for node_id, parent_id, lft, rght, level, _manual in rows:
        if rght <= lft:
            problems.append(f"section {node_id}: rght {rght} <= lft {lft}")
        if parent_id is None:
            if level != 0:
                problems.append(f"section {node_id}: root at level {level}")
            continue
        parent = by_id.get(parent_id)
        if parent is None:
            problems.append(f"section {node_id}: parent {parent_id} is not in tree {tree_id}")
            continue
        if not (parent[2] < lft and rght < parent[3]):
            problems.append(f"section {node_id}: not inside its parent {parent_id}")
        if level != parent[4] + 1:
            problems.append(f"section {node_id}: level {level}, parent's is {parent[4]}")
    return problems


def check_trees() -> list[str]:
    problems: list[str] = []
    rows = Section.objects.order_by("tree_id", "lft").values_list(
        "tree_id", "id", "parent_id", "lft", "rght", "level", "manual_id"
    )
    root_of_manual = dict(Manual.objects.values_list("id", "root_id"))
    seen_manuals: dict[int, int] = {}
    for tree_id, group in groupby(rows.iterator(chunk_size=5000), key=lambda r: r[0]):
        tree = [r[1:] for r in group]
        problems += check_tree_rows(tree_id, tree)
        manual_id = tree[0][5]
        if manual_id in seen_manuals:
            problems.append(f"manual {manual_id}: sections in trees {seen_manuals[manual_id]} "
                            f"and {tree_id}")  # fmt: skip
        seen_manuals[manual_id] = tree_id
        root = next((r for r in tree if r[1] is None), None)
        if root is not None and root_of_manual.get(manual_id) != root[0]:
            problems.append(f"manual {manual_id}: root is {root_of_manual.get(manual_id)}, "
                            f"tree {tree_id} has root {root[0]}")  # fmt: skip
    for manual_id, root_id in root_of_manual.items():
        if root_id is None or manual_id not in seen_manuals:
            problems.append(f"manual {manual_id}: has no tree")
    return problems
