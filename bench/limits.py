"""Benchmark: every bounded operation at its limit, beside the unbounded path it replaced.

    .venv/bin/python bench/limits.py [--only diff,docx,image,zip,body,print]

Each case runs in a fresh process (so that peak memory is its own) against a scratch data
directory, twice: "bounded" is today's code at the worst input its limit lets through,
"unbounded" is the old algorithm or path called directly on the input of issue 12 (the
old difflib call, the old span parsing, decoding without reduction or a decode cap, reading
every zip member, saving a 5 MB body). Prints CPU seconds and the peak resident memory
the work added, with the machine's load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))

REPETITIVE = "首问负责制，四十八小时回访。"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _owner_and_manual():
    from django.contrib.auth import get_user_model

    from manuals.models import Member, Team
    from manuals.tree import create_manual

    team = Team.objects.create(name="基准组")
    owner = get_user_model().objects.create_user("bench", password="x")
    Member.objects.create(user=owner, team=team)
    return owner, create_manual(owner=owner, title="基准手册")


def _raw_body(section_id: int, body: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE manuals_section SET body = %s WHERE id = %s", [body, section_id])


# -- the cases: each returns a callable doing the work, after its own preparation ------------
def case_diff(mode: str):
    import difflib

    from manuals import diff

    old = (REPETITIVE * 1500)[:20_000]
    new = "改" + old[1:10_000] + "新增" + old[10_000:-1] + "尾"
    if mode == "unbounded":  # what the old _inline did with the one changed line
        return lambda: difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    lines = [f"第{i % 7}行" for i in range(1000)]  # just under MAX_LINE_PAIRS, repetitive
    changed = [line if i % 3 else "改" for i, line in enumerate(lines)]
    budget_old = [(REPETITIVE * 40)[:500] for _ in range(40)]  # spends the inline budget
    budget_new = [line[::-1] for line in budget_old]

    def bounded():
        diff.diff_sections("t", f"<p>{old}</p>", "t", f"<p>{new}</p>")
        diff.diff_rows(lines, changed)
        diff.diff_rows(budget_old, budget_new)

    return bounded


def case_docx(mode: str):
    from manuals.documents import docx_export
    from manuals.tree import SectionContent, add_section

    owner, manual = _owner_and_manual()
    section = add_section(manual=manual, content=SectionContent(title="表格", body="<p>x</p>"))
    row = '<tr><td colspan="300">宽</td><td>好</td></tr>'
    _raw_body(section.pk, "<table>" + row * 30 + "</table>")
    if mode == "unbounded":  # the old parsing: any number goes
        docx_export.clamp_span = lambda value, maximum: max(1, int(value or 1))
    return lambda: docx_export.export_docx(manual=manual, user=owner)


def case_image(mode: str):
    from PIL import Image, ImageDraw

    from manuals.images import pipeline

    img = Image.new("RGB", (7700, 7700), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    for i in range(0, 7700, 400):
        draw.rectangle([i, i, i + 300, i + 200], fill=(200, 30, 30))
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    data = out.getvalue()
    del img, draw
    if mode == "unbounded":  # decode at full size, as many at once as there are requests
        pipeline._reduce = lambda image, max_edge: image
        pipeline._decoding = contextlib.nullcontext()

    def work():
        ts = [threading.Thread(target=pipeline.normalise_image, args=(data,)) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    return work


def case_zip(mode: str):
    from manuals.documents.importing import read_document
    from manuals.documents.types import ImportRefused

    path = Path(tempfile.mkdtemp()) / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        names = [f"img/{n}.png" for n in range(50)]
        package.writestr("手册.md", "# 截图\n\n" + "\n".join(f"![]({n})" for n in names))
        for name in names:
            package.writestr(name, bytes(10 * 1024 * 1024))
    if mode == "unbounded":  # the old Markdown zip reader: every referenced member, in full

        def read_all():
            with zipfile.ZipFile(path) as package:
                return [package.read(name) for name in names]

        return read_all

    def bounded():
        with contextlib.suppress(ImportRefused):
            read_document(path, name="bomb.zip")

    return bounded


def case_body(mode: str):
    from manuals import tree
    from manuals.models import BODY_MAX_CHARS
    from manuals.tree import SectionContent, add_section, save_section_content

    owner, manual = _owner_and_manual()
    section = add_section(manual=manual, content=SectionContent(title="聊天记录", body=""))
    big = "<p>" + "客户反复来电，" * (5 * 1024 * 1024 // 21) + "</p>"  # 5 MB of UTF-8
    if mode == "unbounded":  # saved as before: stored in the section and in a revision
        tree.check_body = lambda body, *, title: None

    at_limit = "<p>" + "客户反复来电，" * ((BODY_MAX_CHARS - 7) // 7) + "</p>"

    def save():
        # Bounded: the largest body that saves, then the 5 MB one (refused).
        bodies = [big] if mode == "unbounded" else [at_limit, big]
        for body in bodies:
            with contextlib.suppress(tree.TreeError):
                section.refresh_from_db()
                save_section_content(section=section, expected_version=section.version,
                                     content=SectionContent(title="聊天记录", body=body),
                                     user=owner)  # fmt: skip

    return save


def case_print(mode: str):
    """The printing cost of a body at the limit (the unbounded 5 MB body is not re-run:
    it held the worker for the full 900 s limit)."""
    from manuals.models import BODY_MAX_CHARS
    from manuals.tree import SectionContent, add_section
    from printing.booklet import BookletOptions, assemble_booklet
    from printing.render import render_booklet_pdf

    owner, manual = _owner_and_manual()
    paragraph = "<p>" + "客户来电询问退款进度，先核对订单号再查询物流。" * 20 + "</p>"
    body = paragraph * (BODY_MAX_CHARS // len(paragraph))
    add_section(manual=manual, content=SectionContent(title="聊天记录", body=body))
    booklet = assemble_booklet(manual=manual, options=BookletOptions(), user=owner)
    out = Path(tempfile.mkdtemp()) / "b.pdf"
    return lambda: render_booklet_pdf(booklet=booklet, out_path=out, processes=1)


CASES = {
    "diff": ("history diff, 20,000-character one-line body", case_diff),
    "docx": ("Word export, 30 rows with colspan=300", case_docx),
    "image": ("4 × 7,700² PNG (59 MP) decoded at once", case_image),
    "zip": ("Markdown zip, 50 members × 10 MB (0.5 MB upload)", case_zip),
    "body": ("saving a 5 MB body (bounded: also one at the limit)", case_body),
    "print": ("printing a body at the limit (300,000 chars)", case_print),
}


def child(name: str, mode: str) -> None:
    from bench.corpus import setup_django

    with tempfile.TemporaryDirectory(prefix="lanbitou-bench-limits-") as data_dir:
        setup_django(data_dir)
        if name == "print" and mode == "unbounded":
            print(json.dumps({"skipped": True}))
            return
        work = CASES[name][1](mode)
        before = _rss_mb()
        cpu = time.process_time()
        wall = time.perf_counter()
        work()
        print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                          "peak_mb": _rss_mb() - before}))  # fmt: skip


def run(name: str, mode: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", name, mode], capture_output=True, text=True,
        cwd=REPO, timeout=1800,
    )  # fmt: skip
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _figure(result: dict) -> str:
    if "error" in result:
        return f"error: {result['error'][:40]}"
    if result.get("skipped"):
        return "not re-run (900 s in issue 12)"
    return f"{result['cpu']:7.2f} s CPU {result['peak_mb']:7.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(CASES))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f}  ({os.cpu_count()} CPUs)")  # fmt: skip
    print(f"{'operation':52} {'bounded (worst at the limit)':30} {'unbounded (old path)':30}")
    for name in args.only.split(","):
        label = CASES[name][0]
        bounded, unbounded = run(name, "bounded"), run(name, "unbounded")
        print(f"{label:52} {_figure(bounded):30} {_figure(unbounded):30}", flush=True)
    print(f"load after:  {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
