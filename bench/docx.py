"""Benchmark: importing a 1,000-page Word document (3,000 headings, 100 pictures).

    .venv/bin/python bench/docx.py [--pages 1000] [--headings 3000] [--images 100]
    .venv/bin/python bench/docx.py --small        # 100 pages, 300 headings, 10 pictures

Generates the .docx with python-docx (a page break every few headings, three heading
levels, tables and lists, distinct photos), then imports it into a fresh temporary data
directory (SQLite unless DATABASE_URL is set) exactly as the background worker does, and
prints each figure beside a baseline measured in the same run:
  - the whole import (parse + pictures + one transaction), target < 60 s, against merely
    opening the file with python-docx and reading its paragraphs;
  - the picture pipeline, against its share of the total;
  - peak memory: the process's peak RSS (before and after the import), against the size
    of the unpacked document.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# This script's own folder comes first on sys.path, and its name would hide python-docx.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))

PARAGRAPH = (
    "客户反馈扫地机器人 X3 升级固件 v2.1.8 后配网失败，订单 TB20231105-8842。先按《Bug 升级清单》"
    "复现：iOS 17.3 + 5G Wi-Fi 必现，2.4G 正常；提交研发并附日志，每天 17:00 前更新进度，"
    "回归测试通过后回复客户并回访。退款 ¥299.00 已在 24 小时内处理。"
)


def _photo(rng: random.Random) -> bytes:
    """A distinct 1024×768 JPEG (a gradient with noise, so no two are alike)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1024, 768), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(1024), rng.randrange(768)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)), fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def generate(path: Path, *, pages: int, headings: int, images: int, seed: int = 7) -> None:
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Inches

    rng = random.Random(seed)
    document = Document()
    per_page = max(1, headings // pages)
    image_every = max(1, headings // max(images, 1))
    placed = 0
    for index in range(headings):
        position = index % 15
        level = 1 if position == 0 else (2 if position % 3 == 1 else 3)
        document.add_heading(f"{index + 1}. 案例 {index + 1}：配网失败的处理", level=level)
        for _ in range(2):
            paragraph = document.add_paragraph(PARAGRAPH[: rng.randrange(80, len(PARAGRAPH))])
            paragraph.add_run(" 关键：先安抚客户。").bold = True
        if index % 4 == 0:
            document.add_paragraph("先复现问题", style="List Number")
            document.add_paragraph("提交研发并跟进", style="List Number")
        if index % 10 == 0:
            table = document.add_table(rows=3, cols=3)
            for row in table.rows:
                for cell in row.cells:
                    cell.text = "首响 ≤ 30 秒"
        if placed < images and index % image_every == 0:
            document.add_picture(io.BytesIO(_photo(rng)), width=Inches(4))
            placed += 1
        if (index + 1) % per_page == 0:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--headings", type=int, default=3000)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--small", action="store_true", help="100 pages, 300 headings, 10 images")
    args = parser.parse_args()
    if args.small:
        args.pages, args.headings, args.images = 100, 300, 10

    with tempfile.TemporaryDirectory(prefix="lanbitou-bench-docx-") as data_dir:
        from bench.corpus import setup_django

        setup_django(data_dir)
        from django.contrib.auth import get_user_model

        from manuals.documents.importing import import_document, read_document
        from manuals.integrity import check_trees
        from manuals.models import Member, Team

        path = Path(data_dir) / "big.docx"
        started = time.perf_counter()
        generate(path, pages=args.pages, headings=args.headings, images=args.images)
        generated = time.perf_counter() - started
        with zipfile.ZipFile(path) as package:
            unpacked = sum(info.file_size for info in package.infolist())
        team = Team.objects.create(name="基准组")
        owner = get_user_model().objects.create_user("bench", password="x")
        Member.objects.create(user=owner, team=team)

        # Baseline: python-docx opening the file and reading every paragraph's text.
        import docx

        started = time.perf_counter()
        opened = docx.Document(str(path))
        characters = sum(len(p.text) for p in opened.paragraphs)
        baseline = time.perf_counter() - started
        del opened

        phases: dict[str, float] = {}
        marks = {"start": time.perf_counter()}

        def progress(phase: str, done: int, total: int) -> None:
            if phase == "sections" and done == 0:
                marks["images_end"] = time.perf_counter()

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        started = time.perf_counter()
        parsed = read_document(path)
        phases["parse"] = time.perf_counter() - started
        marks["images_start"] = time.perf_counter()
        manual = import_document(parsed=parsed, owner=owner, progress=progress)
        total_import = time.perf_counter() - started
        phases["pictures"] = marks.get("images_end", marks["images_start"]) - marks["images_start"]
        phases["write"] = total_import - phases["parse"] - phases["pictures"]
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        sections = manual.sections.filter(level__gt=0).count()
        pictures = manual.images.count()
        problems = check_trees()

        mb = 1024 * 1024
        print(f"document: {args.pages} pages, {args.headings} headings, {args.images} pictures, "
              f"{characters:,} characters; .docx {path.stat().st_size / mb:.1f} MB, "
              f"unpacked {unpacked / mb:.1f} MB (generated in {generated:.1f} s)")  # fmt: skip
        trees = "clean" if not problems else problems[:3]
        print(f"imported: {sections} sections, {pictures} pictures, "
              f"{len(parsed.warnings)} warnings, check_trees: {trees}")  # fmt: skip
        ratio = total_import / baseline
        print(f"import total:   {total_import:7.2f} s   (target < 60 s)   "
              f"= {ratio:.1f}× python-docx open+read ({baseline:.2f} s)")  # fmt: skip
        for name in ("parse", "pictures", "write"):
            print(f"  {name:<9} {phases[name]:7.2f} s   ({100 * phases[name] / total_import:.0f}%)")
        print(f"sections/s:     {sections / total_import:7.0f}")
        print(f"peak memory:    process RSS {peak_rss / mb:.0f} MB (before the import "
              f"{rss_before / mb:.0f} MB) = {peak_rss / max(unpacked, 1):.1f}× the unpacked "
              f"document")  # fmt: skip
        verdict = "PASS" if total_import < 60 and not problems else "FAIL"
        print(f"{verdict}: import under 60 s" + ("" if not problems else " — tree problems!"))


if __name__ == "__main__":
    main()
