"""Rendering one chapter to PDF, in a worker process, and the chapter cache.

Free of Django so spawned workers start fast. A chapter's cache key is the hash of
everything that shapes its pages (its HTML, by way of the hash of what the HTML is made
from, the theme files, the paper, this renderer's version), never its position in the
book: page numbers are stamped after merging, so a chapter that did not change is reused
even when an earlier chapter grew by ten pages.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import signal
import tempfile
from pathlib import Path

RENDERER_VERSION = "2"  # 2: keyed by the chapter's sources, not its HTML


PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this process when ``parent_pid`` (its parent) dies.

    A print worker killed mid-edition once left its render process running past every
    limit with nobody watching its memory. The render process calls this for the worker,
    and its chapter workers call it for the render process (as their pool initializer,
    which is why it lives in this Django-free module: a spawned worker imports it)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the worker's recovery still fails the edition
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before we asked


def paper_css(paper: str) -> str:
    return f"@page {{ size: {paper}; }}"


def chapter_key(*, source_key: str, theme_fingerprint: str, paper: str) -> str:
    """``source_key`` stands for the chapter's HTML (printing.booklet.Chapter.source_key)."""
    digest = hashlib.sha256()
    for part in (RENDERER_VERSION, theme_fingerprint, paper, source_key):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def cached(cache_dir: Path, key: str) -> dict | None:
    meta, pdf = cache_dir / f"{key}.json", cache_dir / f"{key}.pdf"
    if not (meta.is_file() and pdf.is_file()):
        return None
    try:
        info = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    os.utime(pdf)  # recently used: kept by the pruning
    return {**info, "pdf": str(pdf)}


def prune(cache_dir: Path, *, max_age_days: int = 45) -> int:
    """Forget chapters nobody printed for a while (every hit refreshes a file's time)."""
    import time

    cutoff = time.time() - max_age_days * 86400
    removed = 0
    for pdf in cache_dir.glob("*.pdf"):
        try:
            if pdf.stat().st_mtime < cutoff:
                pdf.unlink()
                pdf.with_suffix(".json").unlink(missing_ok=True)
                removed += 1
        except OSError:
            continue
    return removed


def render_document(
    *, html: str, css_files: list[str], paper: str, base_url: str, allowed_roots: list[str]
):
    # Imported here: a print that finds everything in the cache never loads WeasyPrint.
    from weasyprint import CSS, HTML

    from printing.fetcher import BookletURLFetcher

    fetcher = BookletURLFetcher(allowed_roots)
    stylesheets = [CSS(filename=path, url_fetcher=fetcher) for path in css_files]
    stylesheets.append(CSS(string=paper_css(paper)))
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=stylesheets
    )
    return document, fetcher


def anchor_positions(document) -> dict[str, list[float]]:
    """First page index and height (in PDF points from the top) of every element id."""
    positions: dict[str, list[float]] = {}
    for index, page in enumerate(document.pages):
        for name, (_x1, y, _x2, _y2) in page.anchors.items():
            positions.setdefault(name, [index, round(y * 0.75, 2)])
    return positions


def _render_job(job: dict):
    return render_document(
        html=job["html"],
        css_files=job["css_files"],
        paper=job["paper"],
        base_url=job["base_url"],
        allowed_roots=job["allowed_roots"],
    )


def _store(job: dict, document, info: dict) -> dict:
    """Write a rendering and its metadata into the cache, under ``job['key']``."""
    cache_dir = Path(job["cache_dir"])
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".pdf")
    os.close(fd)
    document.write_pdf(tmp)
    key = job["key"]
    os.replace(tmp, cache_dir / f"{key}.pdf")
    (cache_dir / f"{key}.json.tmp").write_text(json.dumps(info))
    os.replace(cache_dir / f"{key}.json.tmp", cache_dir / f"{key}.json")
    return {**info, "pdf": str(cache_dir / f"{key}.pdf"), "index": job["index"]}


def render_chapter(job: dict) -> dict:
    """Worker entry point: render ``job['html']`` into the cache; returns its metadata."""
    document, fetcher = _render_job(job)
    info = {
        "pages": len(document.pages),
        "anchors": anchor_positions(document),
        "refused": fetcher.refused[:20],
        "page_heights": [round(p.height * 0.75, 2) for p in document.pages[:1]],
    }
    return _store(job, document, info)


def render_front(job: dict) -> dict:
    """Render the cover and contents (``job['levels']``: each entry's contents level) into
    the cache. Its metadata: pages; links [page, section id, x1, y1, x2, y2], numbers
    [page, section id, level, right, baseline] (where each page number goes) and dots
    [page, baseline, [[left, width], …]] (each cell of a leader) in PDF points; refused."""
    document, fetcher = _render_job(job)
    links, numbers = [], []
    for page_index, page in enumerate(document.pages):
        height = page.height * 0.75
        for name, (x, y, x2, y2) in page.anchors.items():
            if name.startswith("toc-s"):
                rect = [x * 0.75, height - y2 * 0.75, x2 * 0.75, height - y * 0.75]
                links.append([page_index, int(name[5:]), *rect])
            elif name.startswith("toc-r"):  # an empty box: its bottom is on the baseline
                section_id = int(name[5:])
                numbers.append([page_index, section_id, job["levels"].get(str(section_id), 1),
                                round(x2 * 0.75, 3), round(height - y2 * 0.75, 3)])  # fmt: skip
    info = {"pages": len(document.pages), "links": links, "numbers": numbers,
            "dots": _leader_cells(document), "refused": list(fetcher.refused)}  # fmt: skip
    return _store(job, document, info)


def _leader_cells(document) -> list:
    """Where the contents' leaders (laid out, not drawn: base.css) put each " · "."""
    dots = []
    for page_index, page in enumerate(document.pages):
        height = page.height * 0.75
        # The laid-out boxes: WeasyPrint 70's Page keeps them (pyproject pins 70).
        for box in page._page_box.descendants():
            if getattr(box, "is_leader", False) and box.children:
                first = box.children[0]
                baseline = round(height - (first.position_y + first.baseline) * 0.75, 3)
                cells = [[round(c.position_x * 0.75, 3), round(c.width * 0.75, 3)]
                         for c in sorted(box.children, key=lambda c: c.position_x)]  # fmt: skip
                dots.append([page_index, baseline, cells])
    return dots
