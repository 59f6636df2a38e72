"""One OS process of the PostgreSQL test of templates and circulation under concurrency
(tests/manuals/test_circulation_concurrency.py).

    python -m tests.manuals.circulation_worker setup
    python -m tests.manuals.circulation_worker work SEED OPS
    python -m tests.manuals.circulation_worker verify

Prints one JSON object on the last line of stdout. The lead edits the template while
agents clone it, take or skip its updates, edit their copies, copy each other's shared
sections and hand subtrees over, all at once.
"""

from __future__ import annotations

import json
import os
import random
import sys
import traceback
from collections import Counter

TEAM = "并发模板组"
AGENTS = ["cc-amy", "cc-ben", "cc-cai", "cc-dan"]


def setup() -> dict:
    from django.contrib.auth import get_user_model

    from manuals.models import Member, Team
    from manuals.team_templates.cloning import clone_template
    from manuals.team_templates.default_template import ensure_default_template

    User = get_user_model()
    team = Team.objects.create(name=TEAM)
    lead = User.objects.create_user(username="cc-lead", password="x")
    Member.objects.create(user=lead, team=team, role=Member.Role.LEAD, display_name="主管")
    template = ensure_default_template(team=team)
    for name in AGENTS:
        user = User.objects.create_user(username=name, password="x")
        Member.objects.create(user=user, team=team, display_name=name)
        clone_template(template=template, owner=user)
    return {"template_id": template.pk}


def work(seed: int, ops: int) -> dict:
    from django.contrib.auth import get_user_model

    from manuals.circulation.copying import copy_into_my_manual
    from manuals.circulation.handover import hand_over_subtree
    from manuals.models import Manual, Section
    from manuals.team_templates import sync as template_sync
    from manuals.team_templates.cloning import clone_template
    from manuals.tree import EditConflict, SectionContent, TreeError, add_section
    from manuals.tree import save_section_content as save

    rng = random.Random(seed)
    User = get_user_model()
    lead = User.objects.get(username="cc-lead")
    agents = list(User.objects.filter(username__in=AGENTS))
    template = Manual.objects.get(team__name=TEAM, is_template=True)
    done: Counter = Counter()
    refused: Counter = Counter()
    errors: list[str] = []
    written: list[list] = []  # [section id, body] each agent saved, to find afterwards

    def own_manual(user):
        return Manual.objects.filter(owner=user, is_template=False).order_by("?").first()

    def pick(manual, **filters):
        return (
            Section.objects.filter(manual=manual, level__gt=0, trashed_at__isnull=True, **filters)
            .order_by("?")
            .first()
        )

    def lead_edits():
        section = pick(template)
        save(section=section, expected_version=section.version, user=lead,
             content=SectionContent(title=section.title, kind=section.kind,
                                    body=f"<p>模板 w{seed} 第 {rng.randint(1, 10**6)} 版</p>",
                                    visibility="shared"))  # fmt: skip

    def lead_adds():
        add_section(manual=template, target=pick(template, level=1), user=lead,
                    content=SectionContent(title=f"模板新增 w{seed}-{rng.randint(1, 10**6)}",
                                           visibility="shared"))  # fmt: skip

    def agent_edits():
        user = rng.choice(agents)
        section = pick(own_manual(user))
        body = f"<p>{user.username} 的笔记 w{seed}-{rng.randint(1, 10**6)}</p>"
        saved = save(section=section, expected_version=section.version, user=user,
                     content=SectionContent(title=section.title, body=body, kind=section.kind,
                                            visibility="shared"))  # fmt: skip
        written.append([saved.pk, body])

    def agent_takes_updates():
        user = rng.choice(agents)
        manual = own_manual(user)
        pending = template_sync.pending_updates(manual=manual, with_diffs=False)
        if not pending:
            return
        item = rng.choice(pending)
        ts = item.template_section
        if rng.random() < 0.2:
            template_sync.skip_update(manual=manual, template_section_id=ts.pk,
                                      expected_template_version=ts.version, user=user)  # fmt: skip
        elif item.kind == template_sync.NEW:
            template_sync.accept_new(manual=manual, template_section_id=ts.pk,
                                     expected_template_version=ts.version, user=user)  # fmt: skip
        else:
            template_sync.accept_change(
                manual=manual, template_section_id=ts.pk, expected_template_version=ts.version,
                expected_version=item.copy.version, user=user,
                choice=rng.choice(template_sync.CHOICES),
            )  # fmt: skip

    def agent_copies():
        user, other = rng.sample(agents, 2)
        source = pick(own_manual(other), visibility="shared")
        mine = own_manual(user)
        copy_into_my_manual(source=source, target_manual=mine, parent=pick(mine), user=user)

    def agent_hands_over():
        user, other = rng.sample(agents, 2)
        section = pick(own_manual(user), level=2)
        hand_over_subtree(section=section, to_manual=own_manual(other), note="并发交接",
                          mode=rng.choice(["copy", "move"]), user=user)  # fmt: skip

    def agent_clones():
        clone_template(template=template, owner=rng.choice(agents), title=f"w{seed} 新手册")

    actions = [(lead_edits, 15), (lead_adds, 5), (agent_edits, 25), (agent_takes_updates, 30),
               (agent_copies, 10), (agent_hands_over, 8), (agent_clones, 3)]  # fmt: skip
    funcs, weights = zip(*actions, strict=True)
    for _ in range(ops):
        action = rng.choices(funcs, weights)[0]
        try:
            action()
            done[action.__name__] += 1
        except (TreeError, EditConflict) as exc:
            refused[f"{action.__name__}: {exc}"] += 1
        except Exception:
            errors.append(f"{action.__name__}: {traceback.format_exc()}")
    return {"done": dict(done), "refused": dict(refused), "errors": errors, "written": written}


def verify(written: list[list]) -> dict:
    from manuals.integrity import check_trees
    from manuals.models import Revision, Section

    lost = []
    for section_id, body in written:
        if not Section.objects.filter(pk=section_id).exists():
            continue  # moved by a handover: the trashed original is still there, see below
        if not Revision.objects.filter(section_id=section_id, body=body).exists():
            lost.append(section_id)
    return {"problems": check_trees(), "lost": lost}


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if argv[0] == "setup":
        result = setup()
    elif argv[0] == "work":
        result = work(int(argv[1]), int(argv[2]))
    else:
        result = verify(json.loads(sys.stdin.read()))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
