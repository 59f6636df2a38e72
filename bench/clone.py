"""Benchmark: cloning a 2,000-section team template with pictures.

    .venv/bin/python bench/clone.py [--sections 2000] [--images 40] [--sqlite-only]

Prints, on a fresh database in a temporary data directory:
  * the time and number of queries of one bulk clone (target: under 1 s), against a
    baseline measured in the same run: the same outline written one node at a time through
    manuals.tree.add_section (django-mptt's path), on the first BASELINE_SECTIONS sections;
  * 20 clones made concurrently by 4 processes, on SQLite and (when Debian's PostgreSQL is
    installed) on a throwaway PostgreSQL server, then check_trees and a comparison of every
    clone's outline and pictures with the template's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TEAM = "基准测试组"
LEAD = "bench-lead"
BASELINE_SECTIONS = 300
PROCESSES = 4
CLONES = 20


def _django(data_dir: str, database_url: str | None) -> None:
    os.environ["LANBITOU_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def _png(seed: int) -> bytes:
    import io

    from PIL import Image as PILImage

    img = PILImage.new("RGB", (320, 200), ((seed * 37) % 256, (seed * 91) % 256, 120))
    for x in range(0, 320, 8):
        img.putpixel((x, seed % 200), (0, 0, 0))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _outline(n: int) -> list[tuple[int, str]]:
    """``n`` (depth, title) items: 4 chapters, then sections 3 levels deep under them."""
    chapters = ["管理制度", "工作复盘", "项目资料", "学习工具"]
    items: list[tuple[int, str]] = []
    per_chapter = (n - len(chapters)) // len(chapters)
    for c, chapter in enumerate(chapters):
        items.append((1, chapter))
        made = 0
        group = 0
        while made < per_chapter:
            items.append((2, f"{chapter} 专题 {group + 1}"))
            made += 1
            for sub in range(4):
                if made >= per_chapter:
                    break
                items.append((3, f"{chapter} {group + 1}.{sub + 1} 要点"))
                made += 1
                for leaf in range(2):
                    if made >= per_chapter:
                        break
                    items.append((4, f"{chapter} {group + 1}.{sub + 1}.{leaf + 1} 细节"))
                    made += 1
            group += 1
        if c == len(chapters) - 1:
            while len(items) < n:
                items.append((2, f"补充 {len(items)}"))
    return items[:n]


def setup(sections: int, images: int) -> dict:
    from django.contrib.auth import get_user_model

    from manuals.bulk import NewSection, insert_sections
    from manuals.images.pipeline import image_html, store_image
    from manuals.models import Member, Team
    from manuals.tree import create_manual

    User = get_user_model()
    team = Team.objects.create(name=TEAM)
    lead = User.objects.create_user(username=LEAD, password="x")
    Member.objects.create(user=lead, team=team, role=Member.Role.LEAD, display_name="主管")
    for i in range(PROCESSES * 2):
        user = User.objects.create_user(username=f"bench-agent-{i}", password="x")
        Member.objects.create(user=user, team=team, display_name=f"客服{i}")
    template = create_manual(owner=lead, title="基准模板", is_template=True)
    pictures = [
        store_image(manual=template, data=_png(i), original_name=f"图{i}.png", user=lead)
        for i in range(images)
    ]
    paragraph = "遇到客户情绪激动时，先共情再解决问题；记录工单号，约定回复时间并按时跟进。" * 4
    outline = []
    for index, (depth, title) in enumerate(_outline(sections)):
        body = f"<p>{title}：{paragraph}</p><ul><li>要点一</li><li>要点二</li></ul>"
        if pictures and index % 10 == 0:
            body += image_html(pictures[(index // 10) % len(pictures)], caption="示意图")
        outline.append(NewSection(depth=depth, title=title, body=body, visibility="shared"))
    insert_sections(manual=template, parent=None, sections=outline, user=lead, revision_note="基准")
    return {"template_id": template.pk}


def measure_one(template_id: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from manuals.models import Image, Manual, Section
    from manuals.team_templates.cloning import clone_template
    from manuals.tree import SectionContent, add_section, create_manual

    template = Manual.objects.get(pk=template_id)
    user = get_user_model().objects.get(username="bench-agent-0")
    clone_template(template=template, owner=user, title="预热")  # warm caches and imports
    timings = []
    for i in range(3):  # best of three: the machine is shared
        start = time.perf_counter()
        manual = clone_template(template=template, owner=user, title=f"计时克隆 {i}")
        timings.append(time.perf_counter() - start)
    bulk_seconds = min(timings)
    # Counted on a separate clone: capturing queries slows every query down.
    with CaptureQueriesContext(connection) as queries:
        clone_template(template=template, owner=user, title="计数克隆")
    sections = Section.objects.filter(manual=manual, level__gt=0).count()

    # Baseline: the same outline one node at a time through django-mptt (manuals.tree).
    rows = list(
        Section.objects.filter(manual=template, level__gt=0)
        .order_by("lft")
        .values("id", "parent_id", "title", "body", "kind", "visibility")[:BASELINE_SECTIONS]
    )
    start = time.perf_counter()
    naive = create_manual(owner=user, title="逐节克隆")
    made: dict[int, object] = {}
    for row in rows:
        parent = made.get(row["parent_id"])
        made[row["id"]] = add_section(
            manual=naive,
            target=parent,
            content=SectionContent(
                title=row["title"], body=row["body"], kind=row["kind"],
                visibility=row["visibility"],
            ),
            user=user,
        )  # fmt: skip
    naive_seconds = time.perf_counter() - start
    return {
        "sections": sections,
        "images": Image.objects.filter(manual=manual).count(),
        "bulk_seconds": bulk_seconds,
        "queries": len(queries),
        "naive_sections": len(rows),
        "naive_seconds": naive_seconds,
    }


def worker(template_id: int, worker_index: int, count: int) -> dict:
    from django.contrib.auth import get_user_model

    from manuals.models import Manual
    from manuals.team_templates.cloning import clone_template

    template = Manual.objects.get(pk=template_id)
    users = list(get_user_model().objects.filter(username__startswith="bench-agent-"))
    made, errors, times = [], [], []
    for i in range(count):
        owner = users[(worker_index + i * PROCESSES) % len(users)]
        start = time.perf_counter()
        try:
            manual = clone_template(
                template=template, owner=owner, title=f"并发 {worker_index}-{i}"
            )
            made.append(manual.pk)
        except Exception as exc:  # reported, and fails the run
            errors.append(f"{type(exc).__name__}: {exc}")
        times.append(time.perf_counter() - start)
    return {"made": made, "errors": errors, "times": times}


def verify(template_id: int, manual_ids: list[int]) -> dict:
    from manuals.integrity import check_trees
    from manuals.models import Image, Section

    def shape(manual_id):
        return list(
            Section.objects.filter(manual_id=manual_id, level__gt=0)
            .order_by("lft")
            .values_list("level", "title")
        )

    expected = shape(template_id)
    expected_images = Image.objects.filter(manual_id=template_id).count()
    mismatched = [m for m in manual_ids if shape(m) != expected]
    wrong_images = [
        m for m in manual_ids if Image.objects.filter(manual_id=m).count() != expected_images
    ]
    untracked = Section.objects.filter(
        manual_id__in=manual_ids, level__gt=0, template_section__isnull=True
    ).count()
    return {
        "problems": check_trees(),
        "mismatched": mismatched,
        "wrong_images": wrong_images,
        "untracked_sections": untracked,
    }


def _call(command: list[str], env: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *command], env=env, cwd=REPO, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_database(label: str, database_url: str | None, args) -> None:
    with tempfile.TemporaryDirectory(prefix="lanbitou-bench-") as data_dir:
        env = dict(os.environ, LANBITOU_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="config.settings")
        env.pop("DATABASE_URL", None)
        if database_url:
            env["DATABASE_URL"] = database_url
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=REPO, check=True
        )
        info = _call(["--step", "setup", "--sections", str(args.sections),
                      "--images", str(args.images)], env)  # fmt: skip
        template_id = info["template_id"]
        one = _call(["--step", "one", "--template", str(template_id)], env)
        per_node = one["naive_seconds"] / one["naive_sections"]
        projected = per_node * one["sections"]
        print(f"[{label}] one clone of {one['sections']} sections with {one['images']} pictures: "
              f"{one['bulk_seconds']:.3f} s, {one['queries']} queries "
              f"(target < 1 s: {'met' if one['bulk_seconds'] < 1 else 'MISSED'})")  # fmt: skip
        print(f"[{label}] baseline, node by node through manuals.tree: "
              f"{one['naive_sections']} sections in {one['naive_seconds']:.2f} s "
              f"({per_node * 1000:.1f} ms/section, ~{projected:.1f} s for {one['sections']}); "
              f"bulk clone is ~{projected / one['bulk_seconds']:.0f}x faster")  # fmt: skip

        per_process = CLONES // PROCESSES
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--step",
                    "worker",
                    "--template",
                    str(template_id),
                    "--worker-index",
                    str(i),
                    "--count",
                    str(per_process),
                ],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for i in range(PROCESSES)
        ]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=900)
            if proc.returncode != 0:
                raise SystemExit(f"worker failed:\n{err}")
            results.append(json.loads(out.strip().splitlines()[-1]))
        wall = time.perf_counter() - start
        made = [m for r in results for m in r["made"]]
        errors = [e for r in results for e in r["errors"]]
        times = sorted(t for r in results for t in r["times"])
        check = _call(["--step", "verify", "--template", str(template_id),
                       "--manuals", ",".join(map(str, made)) or "0"], env)  # fmt: skip
        ok = (not errors and len(made) == CLONES and not check["problems"]
              and not check["mismatched"] and not check["wrong_images"]
              and not check["untracked_sections"])  # fmt: skip
        print(f"[{label}] {len(made)}/{CLONES} concurrent clones from {PROCESSES} processes in "
              f"{wall:.2f} s wall; per clone median {times[len(times) // 2]:.2f} s, "
              f"max {times[-1]:.2f} s (they queue on the tree lock)")  # fmt: skip
        print(f"[{label}] check_trees: {len(check['problems'])} problems; outlines differing "
              f"from the template: {len(check['mismatched'])}; wrong picture counts: "
              f"{len(check['wrong_images'])}; errors: {len(errors)} -> "
              f"{'OK' if ok else 'FAILED'}")  # fmt: skip
        for line in (errors + check["problems"])[:10]:
            print("   ", line)
        if not ok:
            raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=2000)
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--step", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--template", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--manuals", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step is not None:
        _django(os.environ["LANBITOU_DATA_DIR"], os.environ.get("DATABASE_URL"))
        if args.step == "setup":
            result = setup(args.sections, args.images)
        elif args.step == "one":
            result = measure_one(args.template)
        elif args.step == "worker":
            result = worker(args.template, args.worker_index, args.count)
        else:
            ids = [int(x) for x in args.manuals.split(",") if x and x != "0"]
            result = verify(args.template, ids)
        print(json.dumps(result, ensure_ascii=False))
        return

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (figures scale with it)")
    run_database("SQLite", None, args)
    if args.sqlite_only:
        return
    from tests.pgserver import postgres_bin_dir, running_postgres

    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        print("[PostgreSQL] skipped: server binaries not installed (make test installs them)")
        return
    with running_postgres(bin_dir) as url:
        run_database("PostgreSQL", url, args)


if __name__ == "__main__":
    main()
