"""Rendering one chapter to PDF, in a worker process, and the chapter cache.

Free of Django so that workers spawned rather than forked (see
printing.render._workers_context) start fast. A chapter's cache key is the hash of
everything that shapes its pages (its HTML, by way of the hash of what the HTML is made
from, the theme files, the paper, this renderer's version), never its position in the
book: page numbers are stamped after merging, so a chapter that did not change is reused
even when an earlier chapter grew by ten pages.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import os
import signal
import tempfile
from pathlib import Path

RENDERER_VERSION = "3"  # 2: keyed by the chapter's sources, not its HTML; 3: section starts
# A chapter set again from an earlier rendering keeps that rendering's pages before the
# first changed section. Past this many generations it is set whole again, so that its PDF
# does not carry the fonts of many renderings.
MAX_GENERATIONS = 6


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


# Cyclic garbage collection while a chapter is set: a young-generation pass every 50,000
# allocations instead of 700, and none of the whole heap (a laid-out chapter holds hundreds
# of thousands of objects, traversed again by every full pass). Measured on a 92-page
# chapter: 0.13-0.21 s of its 1.8 CPU-s in the collector before, 0.02 after, and the same
# peak memory (its garbage is freed by reference counting; set_apart collects the rest).
COLLECTOR_THRESHOLDS = (50_000, 20, 100)


def collect_less() -> None:
    """For a process that sets chapters: what it holds now (modules, fonts) is never
    looked at again by the collector, which runs far less often (COLLECTOR_THRESHOLDS)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)


def chapter_worker(parent_pid: int) -> None:
    """A chapter worker's initializer (forked or spawned)."""
    die_with_parent(parent_pid)
    collect_less()


def set_apart(function, job: dict) -> dict:
    """``function(job)`` (render_chapter, render_front), then the laid-out document's
    cycles freed before the next job."""
    try:
        return function(job)
    finally:
        gc.collect()


def give_back_memory() -> None:
    """Return the C heap's free pages to the system (glibc keeps them otherwise): after
    this process set chapters itself, before it binds them."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc


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
    for line in cache_dir.glob("line-*.txt"):  # where a chapter's last rendering is
        try:
            if line.stat().st_mtime < cutoff:
                line.unlink()
        except OSError:
            continue
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


def _store(job: dict, write, info: dict) -> dict:
    """Write a rendering (``write(path)``) and its metadata into the cache, under
    ``job['key']``; the chapter's line (``job['line']``) then points to it."""
    cache_dir = Path(job["cache_dir"])
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".pdf")
    os.close(fd)
    write(tmp)
    key = job["key"]
    os.replace(tmp, cache_dir / f"{key}.pdf")
    _write_atomically(cache_dir / f"{key}.json", json.dumps(info))
    if job.get("line"):
        _write_atomically(cache_dir / f"line-{job['line']}.txt", key)
    return {**info, "pdf": str(cache_dir / f"{key}.pdf"), "index": job["index"]}


def _write_atomically(path: Path, text: str) -> None:
    """Two processes may write the same entry (two machines, a command beside a worker)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def _chapter_body(box):
    """The box of the chapter's body on a page (depth-first: it is near the top)."""
    element = getattr(box, "element", None)
    if element is not None and "chapter-body" in (element.get("class") or "").split():
        return box
    for child in getattr(box, "children", ()):
        found = _chapter_body(child)
        if found is not None:
            return found
    return None


def section_starts(document, anchors: dict) -> list[list[int]]:
    """[page index, section id] of every page that begins with a section's beginning.
    Such a page is laid out alike whatever came before it (but for the chapter's name in
    the running head, which a tail carries): the chapter can be set again from there."""
    starts = []
    for index, page in enumerate(document.pages):
        body = _chapter_body(page._page_box)  # WeasyPrint 70's laid-out boxes
        if body is None or not body.children:
            continue
        element = getattr(body.children[0], "element", None)
        if element is None or element.tag != "section":
            continue
        name = element.get("id") or ""
        if name.startswith("s") and name[1:].isdigit() and anchors.get(name, [-1])[0] == index:
            starts.append([index, int(name[1:])])
    return starts


def render_chapter(job: dict) -> dict:
    """Worker entry point: render the chapter into the cache; returns its metadata.

    With ``job['tail']`` (printing.render plans it), only the pages from the last page
    that begins with an unchanged section are set again; the ones before come from the
    earlier rendering. Should that page not come out exactly where it was, the whole
    chapter is set."""
    if job.get("tail"):
        joined = _render_tail(job)
        if joined is not None:
            return joined
    document, fetcher = _render_job(job)
    anchors = anchor_positions(document)
    info = {
        "pages": len(document.pages),
        "anchors": anchors,
        "refused": fetcher.refused[:20],
        "page_heights": [round(p.height * 0.75, 2) for p in document.pages[:1]],
        "sections": job.get("sections", []),
        "starts": section_starts(document, anchors),
        "generation": 0,
        "kept": 0,
    }
    return _store(job, document.write_pdf, info)


def _render_tail(job: dict) -> dict | None:
    tail, old = job["tail"], job["tail"]["old"]
    keep = tail["keep"]
    if not Path(old["pdf"]).is_file():
        return None  # pruned since
    document, fetcher = _render_job({**job, "html": tail["html"]})
    anchors = anchor_positions(document)
    if anchors.get(f"s{tail['section']}") != [0, tail["top"]]:
        return None  # not where it was: what came before mattered after all
    refused = list(dict.fromkeys([*old.get("refused", []), *fetcher.refused]))[:20]
    info = {
        "pages": keep + len(document.pages),
        "anchors": {
            **{name: at for name, at in old["anchors"].items() if at[0] < keep},
            **{name: [page + keep, top] for name, (page, top) in anchors.items()},
        },
        "refused": refused,
        "page_heights": old["page_heights"],
        "sections": job.get("sections", []),
        "starts": [s for s in old["starts"] if s[0] < keep]
        + [[page + keep, section] for page, section in section_starts(document, anchors)],
        "generation": old.get("generation", 0) + 1,
        "kept": keep,
    }

    def write(path: str) -> None:
        import pikepdf  # the render process has it; a chapter worker only needs it here

        fd, part = tempfile.mkstemp(dir=job["cache_dir"], suffix=".part.pdf")
        os.close(fd)
        try:
            document.write_pdf(part)
            with pikepdf.new() as joined, pikepdf.open(old["pdf"]) as before, \
                    pikepdf.open(part) as after:  # fmt: skip
                joined.pages.extend(before.pages[:keep])
                joined.pages.extend(after.pages)
                joined.save(path)
        finally:
            os.unlink(part)

    return _store({**job, "key": job["resumed_key"]}, write, info)


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
    return _store(job, document.write_pdf, info)


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
