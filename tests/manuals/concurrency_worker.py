"""One OS process of the PostgreSQL concurrency test (tests/manuals/test_concurrency.py).

    python -m tests.manuals.concurrency_worker setup
    python -m tests.manuals.concurrency_worker work SEED OPS SECONDS
    python -m tests.manuals.concurrency_worker verify

Each prints one JSON object on its last line of stdout. DATABASE_URL must point at the
test server. Workers go through manuals.tree only, often with deliberately stale Section
objects, and record what they created and what they purged for good (on commit only).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import traceback
from collections import Counter


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


TEAM = "并发测试组"
OWNERS = ["pg-amy", "pg-ben", "pg-cai"]


def setup() -> dict:
    from django.contrib.auth import get_user_model

    from manuals.models import Member, Section, Team
    from manuals.tree import SectionContent, add_section, create_manual

    team = Team.objects.create(name=TEAM)
    manual_ids = []
    for username in OWNERS:
        user = get_user_model().objects.create_user(username=username, password="x")
        Member.objects.create(user=user, team=team, display_name=username)
        manual = create_manual(owner=user, title=f"{username} 的手册")
        for chapter in ["管理制度", "工作复盘", "项目资料", "学习工具"]:
            parent = add_section(manual=manual, content=SectionContent(title=chapter), user=user)
            for i in range(3):
                add_section(
                    manual=manual,
                    target=parent,
                    content=SectionContent(title=f"{chapter} {i}", body=f"<p>{chapter}</p>"),
                    user=user,
                )
        manual_ids.append(manual.pk)
    return {
        "manual_ids": manual_ids,
        "section_ids": list(Section.objects.values_list("id", flat=True)),
    }


def work(seed: int, ops: int, seconds: float) -> dict:
    from django.db import transaction

    from manuals.bulk import NewSection, insert_sections
    from manuals.models import Manual, Section
    from manuals.signals import sections_deleted
    from manuals.tree import (
        EditConflict,
        SectionContent,
        TreeError,
        add_section,
        create_manual,
        move_section,
        purge_section,
        restore_section,
        save_section_content,
        shift_section,
        trash_section,
    )

    rng = random.Random(seed)
    created: list[int] = []
    purged: list[int] = []
    done: Counter = Counter()
    refused: Counter = Counter()
    errors: list[str] = []
    stale: dict[int, Section] = {}  # objects loaded once and reused long after

    def on_deleted(sender, manual_id, section_ids, **kwargs):
        transaction.on_commit(lambda: purged.extend(section_ids))

    sections_deleted.connect(on_deleted)
    manuals = list(Manual.objects.filter(team__name=TEAM).select_related("owner"))

    def pick(manual: Manual, **filters) -> Section | None:
        ids = list(
            Section.objects.filter(manual=manual, level__gt=0, **filters).values_list(
                "id", flat=True
            )
        )
        if not ids:
            return None
        pk = rng.choice(ids)
        if pk in stale and rng.random() < 0.6:
            return stale[pk]
        node = Section.objects.filter(pk=pk).first()
        if node is not None:
            stale[pk] = node
        return node

    def add(manual, owner):
        target = pick(manual) if rng.random() < 0.8 else None
        position = rng.choice(["first-child", "last-child", "left", "right"])
        if target is None:
            position = "last-child"
        section = add_section(
            manual=manual,
            target=target,
            position=position,
            content=SectionContent(title=f"w{seed} 新章节 {len(created)}", body="<p>内容</p>"),
            user=owner,
        )
        created.append(section.pk)

    def move(manual, owner):
        section, target = pick(manual), pick(manual)
        if rng.random() < 0.15:
            target = Section.objects.get(pk=manual.root_id)
        if section and target:
            position = rng.choice(["first-child", "last-child", "left", "right"])
            move_section(section=section, target=target, position=position, user=owner)

    def shift(manual, owner):
        section = pick(manual)
        if section:
            direction = rng.choice(["up", "down", "indent", "outdent"])
            shift_section(section=section, direction=direction, user=owner)

    def edit(manual, owner):
        section = pick(manual)
        if section:
            content = SectionContent(
                title=f"{section.title[:150]} ✎", body=f"<p>w{seed} 改过</p>", kind=section.kind
            )
            save_section_content(
                section=section, expected_version=section.version, content=content, user=owner
            )

    def trash(manual, owner):
        section = pick(manual, trashed_at__isnull=True)
        if section:
            trash_section(section=section, user=owner)

    def restore(manual, owner):
        section = pick(manual, trashed_root=True)
        if section:
            restore_section(section=section, user=owner)

    def purge(manual, owner):
        section = pick(manual, trashed_root=True)
        if section:
            purge_section(section=section, user=owner)

    def bulk_add(manual, owner):
        # The import/clone path: numbers a whole outline itself under the same lock.
        parent = pick(manual) if rng.random() < 0.7 else None
        outline = [NewSection(depth=1, title=f"w{seed} 导入 {len(created)}")]
        for _ in range(rng.randint(1, 5)):
            depth = rng.randint(2, outline[-1].depth + 1)
            outline.append(NewSection(depth=depth, title=f"w{seed} 导入小节", body="<p>导入</p>"))
        rows = insert_sections(manual=manual, parent=parent, sections=outline, user=owner)
        created.extend(row.pk for row in rows)

    def new_manual(manual, owner):
        fresh = create_manual(owner=owner, title=f"w{seed} 新手册")
        created.append(fresh.root_id)
        section = add_section(manual=fresh, content=SectionContent(title="管理制度"), user=owner)
        created.append(section.pk)

    actions = [(add, 26), (bulk_add, 5), (move, 22), (shift, 15), (edit, 12), (trash, 9),
               (restore, 6), (purge, 3), (new_manual, 6)]  # fmt: skip
    funcs, weights = zip(*actions, strict=True)
    deadline = time.monotonic() + seconds
    attempted = 0
    for _ in range(ops):
        if time.monotonic() > deadline:
            break
        attempted += 1
        action = rng.choices(funcs, weights)[0]
        manual = rng.choice(manuals)
        try:
            action(manual, manual.owner)
            done[action.__name__] += 1
        except (TreeError, EditConflict) as exc:
            refused[f"{action.__name__}: {exc}"] += 1
        except Exception:
            errors.append(f"{action.__name__}: {traceback.format_exc()}")
    return {
        "attempted": attempted,
        "created": created,
        "purged": purged,
        "done": dict(done),
        "refused": dict(refused),
        "errors": errors,
    }


def verify() -> dict:
    from manuals.integrity import check_trees
    from manuals.models import Manual, Section

    return {
        "problems": check_trees(),
        "section_ids": list(Section.objects.values_list("id", flat=True)),
        "manuals": Manual.objects.count(),
    }


def main(argv: list[str]) -> None:
    _django()
    command = argv[0]
    if command == "setup":
        result = setup()
    elif command == "work":
        result = work(int(argv[1]), int(argv[2]), float(argv[3]))
    elif command == "verify":
        result = verify()
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
