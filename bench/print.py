"""Benchmark: print a big manual (default ~1,300 A5 pages, a picture every ~5 pages).

Prints, in one run:
  * full render time and peak memory of the render process tree (targets: < 45 s, < 700 MB;
    proportional set sizes, as the print worker's limit counts it, and the summed resident
    sizes beside, which count a page a forked chapter worker shares with its parent twice)
  * re-print time after editing one chapter (target: < 15 % of the full render)
  both printed as a print worker prints an edition (request, render process started ahead,
  storing the PDF), timed from the request
  * Chromium's headless print-to-PDF time for the same HTML, as a reference ratio
  * the CPU seconds of each (all their processes): on a machine others share, the wall
    times depend on their load, the CPU seconds much less

Usage: .venv/bin/python bench/print.py [--pages 1300] [--keep DIR]
Everything happens in a throw-away data directory (its own SQLite, media and caches).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SENTENCES = [
    "客户来电反映退款迟迟没有到账，情绪非常激动，要求立刻给出答复。",
    "我先安抚情绪，复述问题，再核对订单号、支付渠道和退款申请时间。",
    "查询后发现退款卡在银行处理环节，按流程提交加急工单并告知预计时效。",
    "三天后回访确认到账，客户表示满意，并在评价里点名表扬。",
    "经验：先处理情绪再处理事情，承诺的时间一定要比系统时效多留一天。",
    "遇到系统故障，按升级清单：复现、报开发、跟进、复测、回复客户。",
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1300, help="target page count")
    parser.add_argument("--keep", type=Path, default=None, help="keep the data dir here")
    return parser.parse_args()


def picture(seed: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    img = Image.new("RGB", (1200, 800), tuple(rng.randrange(90, 230) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(25):
        x, y = rng.randrange(1200), rng.randrange(800)
        r = rng.randrange(40, 260)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    img = img.filter(ImageFilter.GaussianBlur(3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def paragraph(rng: random.Random, n: int) -> str:
    return "<p>" + "".join(rng.choice(SENTENCES) for _ in range(n)) + "</p>"


def build_manual(pages: int):
    """~1 section per page: 13 chapters → 10 topics → sections; a picture every 5th."""
    from django.contrib.auth import get_user_model

    from manuals.bulk import NewSection, insert_sections
    from manuals.images.pipeline import store_image
    from manuals.models import Member, Team
    from manuals.tree import create_manual

    team = Team.objects.create(name="售后一组")
    user = get_user_model().objects.create_user("alice", password="x")
    Member.objects.create(user=user, team=team, display_name="王丽")
    manual = create_manual(owner=user, title="王丽的工作手册（压力测试）")
    rng = random.Random(7)
    chapters = max(1, round(pages / 100))
    per_chapter = max(1, round(pages * 1.2 / chapters))  # a section fills ~0.8 page
    items, picture_count = [], 0
    for c in range(chapters):
        items.append(NewSection(1, f"第{c + 1}部分 工作复盘", paragraph(rng, 3)))
        for s in range(per_chapter):
            if s % 10 == 0:
                items.append(NewSection(2, f"专题 {c + 1}.{s // 10 + 1}", paragraph(rng, 2)))
            body = paragraph(rng, 5) + paragraph(rng, 4)
            if s % 6 == 2:  # ~every 5 pages
                image = store_image(manual=manual, data=picture(picture_count),
                                    original_name=f"p{picture_count}.jpg")  # fmt: skip
                picture_count += 1
                layout = ["", "layout-float", "layout-side"][picture_count % 3]
                body += (f'<figure class="{layout}"><img src="/images/{image.pk}/">'
                         f"<figcaption>现场截图 {picture_count}</figcaption></figure>")  # fmt: skip
            else:
                body += paragraph(rng, 3)
            items.append(NewSection(3, f"案例 {c + 1}-{s + 1}", body))
    insert_sections(manual=manual, parent=None, sections=items)
    return manual, picture_count


def children_cpu() -> float:
    """CPU seconds of every finished child process (and their own waited-for children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_cpu(pid: int, seen: dict[int, float]) -> None:
    """Record the CPU seconds so far of ``pid``'s descendants (Chromium does not wait for
    all of its processes, so its rusage misses most of its work: sample /proc instead)."""
    parents: dict[int, list[tuple[int, float]]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent, cpu = _stat(int(entry))
            except OSError:
                continue
            parents.setdefault(parent, []).append((int(entry), cpu))
    todo = [pid]
    while todo:
        for child, cpu in parents.get(todo.pop(), []):
            seen[child] = max(seen.get(child, 0.0), cpu)
            todo.append(child)


def print_measured(manual) -> tuple[float, tuple[float, float], str, float]:
    """An edition printed the way a print worker prints it, by a render process the
    worker started ahead (printing.jobs.warm_render_process, waited for as a worker idle
    for a moment has it ready): wall time from the request, peak memory of the render
    process tree (sampled: proportional, and resident sizes summed), its CPU seconds after
    it was warm."""
    from printing.booklet import BookletOptions
    from printing.jobs import (
        _Spare,
        request_edition,
        run_edition,
        tree_memory_mb,
        wait_until_warm,
        warm_render_process,
    )

    render = warm_render_process()
    if not wait_until_warm(120):
        sys.exit("the spare render process did not start")
    warm_cpu = process_cpu(render.pid)
    cpu, peak, running = children_cpu(), [0.0, 0.0], [True]

    def sample() -> None:
        # Proportional sizes every half second, as the print worker watches them (reading
        # them costs the kernel 4-5 ms a 400 MB process); the resident sizes every 0.1 s.
        tick = 0
        while running[0]:
            if tick % 5 == 0:
                peak[0] = max(peak[0], tree_memory_mb(render.pid))
            peak[1] = max(peak[1], tree_memory_mb(render.pid, proportional=False))
            tick += 1
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    sampler.start()
    edition, _new = request_edition(manual=manual, user=manual.owner, options=BookletOptions())
    status = run_edition(edition_id=edition.pk)
    seconds = time.monotonic() - started
    running[0] = False
    sampler.join()
    assert _Spare.child is not render  # it was used, and the next one is on its way
    edition.refresh_from_db()
    if status != "done":
        sys.exit(f"edition {edition.pk}: {status} {edition.failure_reason}")
    summary = (f"{edition.page_count} pages, {edition.size_bytes // 1024} KB, "
               f"{edition.chapters_rendered} chapters rendered, {edition.chapters_cached} "
               f"from cache")  # fmt: skip
    return seconds, (peak[0], peak[1]), summary, children_cpu() - cpu - warm_cpu


def stop_spare() -> None:
    from printing.jobs import _Spare, _stop

    _Spare.wanted = False
    if _Spare.child is not None:
        _stop(_Spare.child)
        _Spare.child = None


def _stat(pid: int) -> tuple[int, float]:
    """The parent of ``pid`` and the CPU seconds it used so far (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    return _stat(pid)[1]


def chromium_reference(manual, work: Path) -> tuple[float, int, float]:
    """The same chapters as one HTML file, printed by Debian's Chromium."""
    from printing.booklet import BookletOptions, assemble_booklet
    from printing.theming import BASE_CSS

    booklet = assemble_booklet(manual=manual, options=BookletOptions())
    bodies = [c.html.split("<body", 1)[1].split(">", 1)[1].rsplit("</body>", 1)[0]
              for c in booklet.chapters]  # fmt: skip
    css = BASE_CSS.read_text() + booklet.theme.css_path.read_text() + "@page { size: A5; }"
    html = work / "chromium.html"
    html.write_text(
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><base href="'
        f'{booklet.theme.path.as_uri()}/"><style>{css}</style></head><body>'
        + booklet.front_html(page_of={}).split("<body", 1)[1].split(">", 1)[1]
        + "".join(bodies)
        + "</body></html>"
    )
    out = work / "chromium.pdf"
    started, seen = time.monotonic(), {}
    child = subprocess.Popen(
        ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--allow-file-access-from-files", "--no-pdf-header-footer",
         f"--print-to-pdf={out}", html.as_uri()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    while child.poll() is None:
        tree_cpu(os.getpid(), seen)
        time.sleep(0.05)
    seconds = time.monotonic() - started
    if child.returncode:
        sys.exit(f"chromium failed ({child.returncode})")
    cpu = sum(seen.values())  # a lower bound: the last 50 ms of each process are missed
    pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    count = next((int(x.split()[-1]) for x in pages.splitlines() if x.startswith("Pages:")), 0)
    return seconds, count, cpu


def main() -> None:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="lanbitou-bench-"))
    sys.path.insert(0, str(REPO))
    from bench.corpus import setup_django

    setup_django(str(work / "data"))
    from manuals.models import Section
    from manuals.tree import SectionContent, save_section_content

    started = time.monotonic()
    manual, pictures = build_manual(args.pages)
    print(f"built manual {manual.pk}: {Section.objects.filter(manual=manual).count() - 1} "
          f"sections, {pictures} pictures in {time.monotonic() - started:.1f} s")  # fmt: skip
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    full_s, full_mb, full_out, full_cpu = print_measured(manual)
    print(f"full render:      {full_s:6.1f} s   cpu {full_cpu:5.1f} s   peak {full_mb[0]:5.0f} MB"
          f" (summed RSS {full_mb[1]:.0f} MB)   ({full_out})")  # fmt: skip

    leaves = Section.objects.filter(manual=manual, level=3).order_by("lft")
    target = leaves[leaves.count() // 2]
    save_section_content(
        section=target, expected_version=target.version,
        content=SectionContent(title=target.title + "（已修订）",
                               body=target.body + "<p>补充：客户第二天再次来电确认。</p>" * 12),
    )  # fmt: skip
    again_s, again_mb, again_out, again_cpu = print_measured(manual)
    print(f"re-print (1 chapter edited): {again_s:6.1f} s   cpu {again_cpu:5.1f} s   "
          f"peak {again_mb[0]:5.0f} MB (summed RSS {again_mb[1]:.0f} MB)"
          f"   ({again_out})")  # fmt: skip

    stop_spare()  # the worker's next render process: it would warm up beside Chromium
    chrome_s, chrome_pages, chrome_cpu = chromium_reference(manual, work)
    print(f"chromium print-to-pdf (same HTML): {chrome_s:6.1f} s   cpu {chrome_cpu:5.1f} s   "
          f"{chrome_pages} pages")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print()
    print(f"full render      {full_s:6.1f} s  (target < 45 s)     "
          f"{'OK' if full_s < 45 else 'OVER'}")  # fmt: skip
    print(f"peak memory      {full_mb[0]:6.0f} MB (target < 700 MB; summed RSS {full_mb[1]:.0f} MB)"
          f"   {'OK' if max(full_mb) < 700 else 'OVER'}")  # fmt: skip
    ratio = again_s / full_s
    print(
        f"re-print / full  {ratio:6.1%}    (target < 15 %)     {'OK' if ratio < 0.15 else 'OVER'}"
    )
    print(f"weasyprint / chromium  {full_s / chrome_s:4.2f}x   (target < 2x; "
          f"in CPU seconds {full_cpu / chrome_cpu:4.2f}x)")  # fmt: skip
    if args.keep:
        shutil.copytree(work, args.keep, dirs_exist_ok=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
