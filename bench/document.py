"""Benchmark: a 5,000-section, ~2-million-character manual read as one document.

    .venv/bin/python bench/document.py [--sections 5000] [--chars 2000000] [--repeat 15]

Builds the manual in a fresh temporary data directory (SQLite unless DATABASE_URL is set)
and prints, beside the single-section page measured in the same run:
  - the first screen (the manual page): server time (target < 150 ms) and bytes of the
    first response (target < 300 KB);
  - the time until the last section is reachable by scrolling: every chunk fetched in
    sequence, each from the ``next`` the one before names, as the browser does (and by
    a jump from the outline: the one chunk holding it);
  - the in-place save (the JSON save endpoint, target < 100 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# This script's own folder comes first on sys.path; bench/docx.py would hide python-docx.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))

from bench.tree import BEST, CPU, _verdict, timed  # noqa: E402

DEPTH = 6
NEXT = re.compile(r'class="doc-chunk"[^>]*data-next="(\d*)"')


def build_manual(owner, *, total: int, chars: int, title: str):
    """``total`` sections in pre-order, up to DEPTH levels, ~``chars`` characters of body
    text from the search corpus generators."""
    from manuals.bulk import NewSection, insert_sections
    from manuals.models import Section
    from manuals.tree import create_manual
    from tests.search.corpus import section_texts

    rng = random.Random(total)
    kinds = [k for k, _label in Section.Kind.choices]
    mean = max(20, chars // max(1, total))
    sections, depth = [], 1
    for index, (heading, body) in enumerate(section_texts(total, seed=total, mean_length=mean)):
        depth = 1 if index % max(1, total // 8) == 0 else rng.randint(2, min(DEPTH, depth + 1))
        sections.append(
            NewSection(
                depth=depth, title=f"{index + 1}. {heading}", body=body,
                kind=kinds[index % len(kinds)],
                visibility=Section.Visibility.SHARED if index % 3 else Section.Visibility.PRIVATE,
            )
        )  # fmt: skip
    manual = create_manual(owner=owner, title=title)
    insert_sections(manual=manual, parent=None, sections=sections, user=owner)
    manual.refresh_from_db()
    return manual


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=5000)
    parser.add_argument("--chars", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lanbitou-bench-") as data_dir:
        from bench.corpus import setup_django

        setup_django(data_dir)
        run(args)


def run(args) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Sum
    from django.db.models.functions import Length
    from django.test import Client
    from django.urls import reverse

    from manuals.models import Member, Section, Team

    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    team = Team.objects.create(name="基准测试组")
    owner = get_user_model().objects.create_user(username="bench", password="x")
    Member.objects.create(user=owner, team=team, display_name="基准")
    start = time.perf_counter()
    manual = build_manual(owner, total=args.sections, chars=args.chars, title="大手册")
    build_s = time.perf_counter() - start
    live = Section.objects.filter(manual=manual, level__gt=0)
    chars = live.aggregate(n=Sum(Length("body")) + Sum(Length("title")))["n"]
    print(f"manual: {live.count():,} sections, {chars:,} characters "
          f"(built in {build_s:.1f} s, database {connection.vendor})")  # fmt: skip

    client = Client()
    client.force_login(owner)
    manual_url = reverse("manuals:manual", kwargs={"manual_id": manual.pk})
    chunk_url = reverse("manuals:document_chunk", kwargs={"manual_id": manual.pk})
    ordered = list(live.order_by("tree_id", "lft").values_list("pk", flat=True))
    middle = ordered[len(ordered) // 2]
    single_url = reverse("manuals:section", kwargs={"manual_id": manual.pk, "section_id": middle})

    def get(url, **params):
        response = client.get(url, params)
        assert response.status_code == 200, (url, response.status_code)
        return response.content

    first = get(manual_url)
    single = get(single_url)
    first_ms = timed(lambda: get(manual_url), args.repeat, "first")
    single_ms = timed(lambda: get(single_url), args.repeat, "single")
    size_ok = "OK" if len(first) < 300 * 1024 else "MISSES"
    print(f"first screen:   {first_ms:7.1f} ms (best {BEST['first']:.1f}, CPU {CPU['first']:.1f}) "
          f"target < 150 ms: {_verdict(first_ms, CPU['first'], 150)}; "
          f"{len(first) / 1024:.0f} KiB target < 300 KB: {size_ok} "
          f"| single-section page: {single_ms:.1f} ms, {len(single) / 1024:.0f} KiB")  # fmt: skip

    def scroll_to_end():
        """Every chunk after the first page, in sequence; returns (chunks, bytes, last)."""
        count, size = 0, 0
        following = NEXT.search(first.decode()).group(1)
        html = ""
        while following:
            html = get(chunk_url, **{"from": following}).decode()
            count, size = count + 1, size + len(html)
            following = NEXT.search(html).group(1)
        return count, size, html

    count, size, last_html = scroll_to_end()
    assert f'id="s-{ordered[-1]}"' in last_html, "the last chunk must hold the last section"
    scroll_ms = timed(scroll_to_end, max(1, args.repeat // 5), "scroll")
    print(f"scroll to end:  {scroll_ms:7.0f} ms (CPU {CPU['scroll']:.0f}) for {count} chunks, "
          f"{size / 1024:.0f} KiB, {scroll_ms / max(1, count):.1f} ms per chunk")  # fmt: skip

    # An outline click (or Ctrl+F) on the last section fetches the one chunk holding it.
    jump_ms = timed(lambda: get(chunk_url, **{"from": ordered[-1]}), args.repeat, "jump")
    print(f"jump to end:    {jump_ms:7.1f} ms (CPU {CPU['jump']:.1f}), one chunk")

    section = live.get(pk=middle)
    save_url = reverse(
        "manuals:save_section_inline", kwargs={"manual_id": manual.pk, "section_id": middle}
    )
    state = {"version": section.version}

    def save():
        response = client.post(
            save_url,
            {"title": section.title, "body": section.body + f"<p>{state['version']}</p>",
             "kind": section.kind, "visibility": section.visibility,
             "version": state["version"]},
        )  # fmt: skip
        assert response.status_code == 200, response.content[:300]
        state["version"] = response.json()["version"]

    save_ms = timed(save, args.repeat, "save")
    print(f"in-place save:  {save_ms:7.1f} ms (best {BEST['save']:.1f}, CPU {CPU['save']:.1f}) "
          f"target < 100 ms: {_verdict(save_ms, CPU['save'], 100)}")  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"(wall-clock medians; machine load average {load} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
