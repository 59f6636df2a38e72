"""From a booklet to one PDF: chapters (cached, in parallel), front matter, numbers, bookmarks.

1. every chapter not in the cache is rendered by WeasyPrint in worker processes;
2. the front matter (cover + contents) is rendered with the real page numbers, computed
   from the chapters' actual page counts and heading positions (twice if the contents
   itself grows by a page), or taken from the cache when that very front matter was
   printed before;
3. pikepdf (qpdf) joins the parts, stamps page numbers, and writes bookmarks mirroring
   the tree and the contents' links.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from contextlib import ExitStack
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import pikepdf
from django.conf import settings
from pikepdf import Array, Dictionary, Name, OutlineItem

from printing.booklet import Booklet
from printing.chapters import (
    MAX_GENERATIONS,
    RENDERER_VERSION,
    cached,
    chapter_key,
    chapter_worker,
    give_back_memory,
    prune,
    render_chapter,
    render_document,
    render_front,
    set_apart,
)
from printing.folio import (
    CONTENTS_GLYPHS,
    ContentsNumber,
    LeaderDots,
    render_digit_sheet,
    stamp_contents_numbers,
    stamp_page_numbers,
)
from printing.theming import BASE_CSS, THEMES_DIR

Progress = Callable[[int, str], None]
# Below this much HTML to render, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD_CHARS = 150_000
# Contents entries on a page (plain theme, chapters bold with space above): an estimate of
# the front matter's length for a first print.
TOC_LINES_PER_PAGE = {"A4": 36, "A5": 25}


@dataclass
class RenderResult:
    path: Path
    page_count: int
    size_bytes: int
    chapters_rendered: int
    chapters_cached: int
    seconds: float
    # Of the chapters set now, those the rendering process set itself (the rest: workers).
    chapters_set_here: int = 0
    # How the chapter workers were started: "fork", "spawn" ("": none, all set here).
    workers_started: str = ""
    front_cached: bool = False
    # Pages of the chapters set now that were kept from their earlier renderings.
    pages_kept: int = 0
    page_of: dict[int, int] = field(default_factory=dict)
    refused_urls: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _front_memory(booklet: Booklet, directory: Path) -> Path:
    """Where the last front-matter page count of this manual + options is remembered."""
    key = hashlib.sha256(
        json.dumps([booklet.manual.pk, booklet.options.as_dict(), booklet.theme.name]).encode()
    ).hexdigest()[:24]
    return directory / f"front-{key}.txt"


def _front_guess(booklet: Booklet, directory: Path) -> int:
    # The contents pages come first, so their count shifts every page number: start from
    # last time's count (or an estimate) so that one rendering is usually enough.
    try:
        return int(_front_memory(booklet, directory).read_text())
    except (OSError, ValueError):
        entries = len(booklet.toc_entries())
        per_page = TOC_LINES_PER_PAGE.get(booklet.options.paper, 25)
        return 1 + max(1, -(-entries // per_page))


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "print-cache" / "chapters"


def workers() -> int:
    configured = getattr(settings, "LANBITOU_PRINT_WORKERS", 0)
    return configured or max(1, min(2, os.cpu_count() or 1))


def _css_files(booklet: Booklet) -> list[str]:
    return [str(BASE_CSS), str(booklet.theme.css_path)]


def _line(booklet: Booklet, chapter, fingerprint: str) -> str:
    """A chapter's renderings that differ only in their sections, for the same readers
    (an earlier rendering's fonts hold the characters of all its pages)."""
    parts = [RENDERER_VERSION, fingerprint, booklet.options.paper, chapter.head_key,
             booklet.audience]  # fmt: skip
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _resumed_key(key: str, audience: str) -> str:
    """Where a chapter set partly from an earlier rendering is cached: that rendering's
    fonts hold every character it had (a section deleted since, a private one), so only
    the same readers may have it. A chapter set whole is shared by its content."""
    return hashlib.sha256(f"{key}\0{audience}".encode()).hexdigest()


def _tail(chapter, directory: Path, line: str) -> dict | None:
    """How to set ``chapter`` again from its last rendering, if it can be: from the last
    page of that rendering that begins with a section before the first changed one and
    comes before the page that changed one starts on (the break before that page may
    look at what follows it)."""
    pointer = directory / f"line-{line}.txt"
    try:
        earlier = cached(directory, pointer.read_text().strip())
        os.utime(pointer)  # in use: kept by the pruning
    except OSError:
        return None
    if earlier is None or earlier.get("generation", MAX_GENERATIONS) >= MAX_GENERATIONS:
        return None
    old, new = earlier.get("sections", []), chapter.section_keys
    same = (i for i, pair in enumerate(zip(old, new, strict=False)) if pair[0] != pair[1])
    first = next(same, min(len(old), len(new)))
    if first < len(old):
        changed_from = earlier["anchors"].get(f"s{old[first][0]}", [0])[0]
    else:  # sections added at the end: the old last page is followed by new ones
        changed_from = earlier["pages"] - 1
    position = {section: i for i, (section, _key) in enumerate(old[:first])}
    starts = [(page, section) for page, section in earlier.get("starts", [])
              if 1 <= page < changed_from and section in position]  # fmt: skip
    if not starts:
        return None
    page, section = max(starts)
    return {
        "html": chapter.tail_html(position[section]),
        "keep": page,
        "section": section,
        "top": earlier["anchors"][f"s{section}"][1],
        "old": earlier,
    }


def _size(job: dict) -> int:
    """How much HTML the job sets."""
    return len(job["tail"]["html"] if job.get("tail") else job["html"])


def _render_chapters(
    booklet: Booklet,
    progress: Progress,
    directory: Path,
    processes: int,
    speculate: Callable[[list], dict | None] | None = None,
) -> tuple[list[dict], int, str]:
    """Every chapter, from the cache or set now, how many were set now, and how chapter
    workers were started ("fork", "spawn"; "" with none). In parallel, a worker that has no chapter
    left takes ``speculate(results)``: the front matter for the page numbers as far as
    they are known, which is in the cache by the end if the guess was right."""
    fingerprint = booklet.theme.fingerprint()
    resumable = booklet.theme.resumable  # (reads the theme's files)
    results: list[dict | None] = []
    jobs = []
    for chapter in booklet.chapters:
        key = chapter_key(source_key=chapter.source_key, theme_fingerprint=fingerprint,
                          paper=booklet.options.paper)  # fmt: skip
        # A chapter set from an earlier rendering is only for that rendering's readers.
        resumed = _resumed_key(key, booklet.audience)
        hit = cached(directory, key) or cached(directory, resumed)
        results.append(hit)
        if hit is None:
            line = _line(booklet, chapter, fingerprint)
            jobs.append(
                {
                    "index": chapter.index,
                    "key": key,
                    "html": chapter.html,
                    "css_files": _css_files(booklet),
                    "paper": booklet.options.paper,
                    "base_url": booklet.theme.path.as_uri() + "/",
                    "allowed_roots": [str(p) for p in booklet.allowed_roots],
                    "cache_dir": str(directory),
                    "line": line,
                    "resumed_key": resumed,
                    "sections": chapter.section_keys,
                    "tail": _tail(chapter, directory, line) if resumable else None,
                }
            )
    total = len(jobs)
    done = 0

    def finished(result: dict) -> None:
        nonlocal done
        results[result["index"]] = result
        done += 1
        progress(5 + int(80 * done / max(total, 1)), f"{done}/{total}")

    size = sum(_size(job) for job in jobs)
    if processes > 1 and len(jobs) > 1 and size > PARALLEL_THRESHOLD_CHARS:
        # Largest chapters first so one long chapter does not finish alone at the end.
        jobs.sort(key=lambda job: -_size(job))
        guess = None if speculate is None else lambda: speculate(results)
        started = _in_lanes(jobs, min(processes, len(jobs)), finished, guess)
        give_back_memory()  # what the chapters set here took, before the binding
    else:
        started = ""
        for job in jobs:
            finished(_set_here(render_chapter, job))
    return results, total, started


def _set_here(function: Callable[[dict], dict], job: dict) -> dict:
    """A chapter (or the front matter) set by this process."""
    return {**set_apart(function, job), "here": True}


def _in_lanes(
    jobs: list[dict],
    lanes: int,
    finished: Callable[[dict], None],
    speculate: Callable[[], dict | None] | None,
) -> str:
    """Set ``jobs`` in ``lanes`` lanes at once, each taking the next job when it is done
    with one: this process (a print's render process is warm: WeasyPrint loaded, its
    fonts read) in a thread of its own, the others in worker processes (see
    _workers_context). The first lane left with nothing to take sets the front matter on
    a guess (``speculate()``). Returns how the workers were started: "fork" or "spawn"."""
    queue = list(reversed(jobs))
    lane_of: dict[Future, Executor] = {}
    context = _workers_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chapter") as here, \
            ProcessPoolExecutor(
                max_workers=lanes - 1, mp_context=context,
                initializer=chapter_worker, initargs=(os.getpid(),),
            ) as workers:  # fmt: skip

        def start(lane: Executor, function: Callable[[dict], dict], job: dict) -> Future:
            if lane is here:
                future = here.submit(_set_here, function, job)
            else:
                future = workers.submit(set_apart, function, job)
            lane_of[future] = lane
            return future

        try:
            # The largest chapter to the warm lane here; the workers are started first,
            # forked (see _workers_context) before the thread of this lane starts.
            first = queue.pop()
            for _worker in range(lanes - 1):
                start(workers, render_chapter, queue.pop())
            start(here, render_chapter, first)
            left, front, asked = len(jobs), None, speculate is None
            while lane_of:
                ready, _running = wait(list(lane_of), return_when=FIRST_COMPLETED)
                free = []
                for future in ready:
                    free.append(lane_of.pop(future))
                    result = future.result()
                    if future is not front:
                        finished(result)
                        left -= 1
                for lane in free:  # (the guess knows every chapter done by now)
                    if queue:
                        start(lane, render_chapter, queue.pop())
                    elif not asked and left:
                        asked, job = True, speculate()
                        if job is not None:
                            front = start(lane, render_front, job)
        except BaseException:
            workers.shutdown(cancel_futures=True)  # nothing more is started
            raise
    return context.get_start_method()


def _workers_context():
    """How chapter workers start: forked from this process when no other thread runs in
    it, so that they start as warm as it is (WeasyPrint loaded, its fonts read) instead
    of loading everything again (1.2-1.5 CPU-s a worker); spawned otherwise, since a fork
    copies whatever lock another thread holds at that moment. The kernel's list of this
    process's threads counts those of C libraries too (Pango starts one to read the font
    configuration; it is done once WeasyPrint has set a line)."""
    try:
        alone = len(os.listdir("/proc/self/task")) == 1
    except OSError:
        alone = False  # not Linux: who else runs here is not known
    return get_context("fork" if alone and "fork" in get_all_start_methods() else "spawn")


@dataclass
class Front:
    """The cover and contents: rendered now, or the same pages from the cache."""

    key: str
    info: dict  # see printing.chapters.render_front
    cached: bool = False

    def pdf(self, directory: Path) -> Path:
        return directory / f"{self.key}.pdf"


def _front_job(booklet: Booklet, page_of: dict[int, int], directory: Path) -> dict:
    html = booklet.front_html(page_of=page_of)
    key = "front-" + chapter_key(
        source_key=hashlib.sha256(html.encode()).hexdigest(),
        theme_fingerprint=booklet.theme.fingerprint(),
        paper=booklet.options.paper,
    )
    return {
        "index": -1,
        "key": key,
        "html": html,
        "levels": {str(entry.section_id): entry.depth for entry in booklet.entries},
        "css_files": _css_files(booklet),
        "paper": booklet.options.paper,
        "base_url": booklet.theme.path.as_uri() + "/",
        "allowed_roots": [str(p) for p in booklet.allowed_roots],
        "cache_dir": str(directory),
    }


def _front(booklet: Booklet, page_of: dict[int, int], directory: Path) -> Front:
    job = _front_job(booklet, page_of, directory)
    hit = cached(directory, job["key"])
    if hit is not None:
        return Front(key=job["key"], info=hit, cached=True)
    return Front(key=job["key"], info=set_apart(render_front, job))


def _guessed_chapters(booklet: Booklet, results: list[dict | None]) -> list[dict]:
    """``results`` with the chapters still being set guessed from their HTML's length, at
    the pages per character of those set so far (entries spread evenly over the pages)."""
    done = [(r["pages"], len(c.html)) for c, r in zip(booklet.chapters, results, strict=True)
            if r is not None and "index" in r]  # fmt: skip
    per_char = sum(p for p, _n in done) / max(1, sum(n for _p, n in done))
    guessed = []
    for chapter, result in zip(booklet.chapters, results, strict=True):
        if result is None:
            pages = max(1, round(len(chapter.html) * per_char))
            count = len(chapter.entries)
            result = {"pages": pages, "anchors": {
                f"s{e.section_id}": [min(pages - 1, pages * k // count), 0]
                for k, e in enumerate(chapter.entries)}}  # fmt: skip
        guessed.append(result)
    return guessed


def _digits_certain(
    booklet: Booklet, results: list, guessed: list[dict], page_of: dict, slack: int
) -> bool:
    """Whether the guessed page numbers surely give the contents their final room for
    numbers (as many digits as the last page number has: the contents depend on nothing
    else of them). The guess for a chapter still being set may be a fifth out."""
    for result, guess in zip(results, guessed, strict=True):
        if result is None:
            slack += 2 + guess["pages"] // 5
    last = max(page_of.values(), default=1)
    return len(str(max(1, last - slack))) == len(str(last + slack))


def _page_numbers(booklet: Booklet, chapters: list[dict], front_pages: int):
    starts, page_of, where = [], {}, {}
    page = front_pages
    for chapter, info in zip(booklet.chapters, chapters, strict=True):
        starts.append(page)
        for entry in chapter.entries:
            index, top = info["anchors"].get(f"s{entry.section_id}", [0, 0])
            page_of[entry.section_id] = page + index + 1
            where[entry.section_id] = (page + index, top)
        page += info["pages"]
    return starts, page_of, where


def _digit_sheet(booklet: Booklet, directory: Path) -> Path:
    folio = booklet.theme.folio
    path = directory / f"folio-{booklet.theme.name}-{booklet.theme.fingerprint()}.pdf"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        render_digit_sheet(folio=folio, path=tmp)
        os.replace(tmp, path)
    return path


def _contents_sheet(booklet: Booklet, directory: Path) -> Path:
    """The digits and leader dot of the contents, set by the contents' own stylesheets."""
    key = hashlib.sha256(
        json.dumps([booklet.theme.fingerprint(), booklet.options.paper, booklet.language,
                    booklet.contents_sheet_html(digits=CONTENTS_GLYPHS)]).encode()
    ).hexdigest()[:24]  # fmt: skip
    path = directory / f"folio-contents-{key}.pdf"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        document, _fetcher = render_document(
            html=booklet.contents_sheet_html(digits=CONTENTS_GLYPHS),
            css_files=_css_files(booklet),
            paper=booklet.options.paper,
            base_url=booklet.theme.path.as_uri() + "/",
            allowed_roots=[str(p) for p in booklet.allowed_roots],
        )
        tmp = path.with_suffix(".tmp")
        document.write_pdf(tmp)
        os.replace(tmp, path)
    return path


def _contents_numbers(front: Front, page_of: dict[int, int]) -> list[ContentsNumber]:
    return [
        ContentsNumber(page_index, level, str(page_of[section_id]), right, baseline)
        for page_index, section_id, level, right, baseline in front.info["numbers"]
        if section_id in page_of
    ]


def _leader_dots(front: Front) -> list[LeaderDots]:
    """Each leader, with the level of the entry whose number shares its line."""
    numbers: dict[int, list[tuple[float, int]]] = {}
    for page, _id, level, _right, baseline in front.info["numbers"]:
        numbers.setdefault(page, []).append((baseline, level))

    def level_at(page: int, baseline: float) -> int:
        lines = numbers.get(page) or [(baseline, 1)]
        return min(lines, key=lambda line: abs(line[0] - baseline))[1]

    return [
        LeaderDots(page, level_at(page, baseline), baseline, cells)
        for page, baseline, cells in front.info["dots"]
    ]


def _add_bookmarks(pdf: pikepdf.Pdf, booklet: Booklet, where: dict) -> None:
    pages: dict[int, tuple[pikepdf.Object, float]] = {}
    with pdf.open_outline(max_depth=1000) as outline:
        parents: list[OutlineItem] = []
        for entry in booklet.entries:
            page_index, top = where[entry.section_id]
            if page_index not in pages:
                page = pdf.pages[page_index]
                _left, bottom, _right, box_top = (float(v) for v in page.mediabox)
                pages[page_index] = (page.obj, box_top - bottom)
            page_obj, height = pages[page_index]
            # An explicit destination: pikepdf would look each page index up in the page
            # list (a scan per bookmark, half a second for 1,700 of them).
            item = OutlineItem(entry.title, Array([page_obj, Name.XYZ, 0, height - top, None]))
            item.is_closed = entry.depth != 1
            del parents[entry.depth - 1 :]
            (parents[-1].children if parents else outline.root).append(item)
            # Depths grow by one at a time, so parents[d - 1] is the last item at depth d.
            parents.append(item)


def _add_toc_links(pdf: pikepdf.Pdf, front: Front, where: dict) -> None:
    links: dict[int, list] = {}
    for page_index, section_id, *rect in front.info["links"]:
        target = where.get(section_id)
        if target is None:
            continue
        links.setdefault(page_index, []).append(
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Link,
                    Rect=Array(rect),
                    Border=Array([0, 0, 0]),
                    Dest=Array([pdf.pages[target[0]].obj, Name.Fit]),
                )
            )
        )
    for page_index, new_links in links.items():
        page = pdf.pages[page_index].obj
        existing = page.get("/Annots")
        if existing is None:
            page.Annots = Array(new_links)
        else:
            existing.extend(new_links)


def warm_up() -> None:
    """What a render process does first whatever it prints: load WeasyPrint and pikepdf
    and set a line in each font the themes use (a spare render process does it before
    its booklet arrives). Not writing it: the fonts' subsetting would hold 50 MB a font
    for a fifth of a second."""
    fonts = sorted(set(re.findall(r'"(Noto [^"]+)"', "".join(
        path.read_text(encoding="utf-8") for path in [BASE_CSS, *THEMES_DIR.glob("*/theme.css")]
    ))))  # fmt: skip
    lines = "".join(
        f"<p style=\"font-family: '{font}'\">客服手册 退款 Refund 2024-03 <b>工单</b> 1234</p>"
        for font in fonts
    )
    render_document(
        html=f"<!DOCTYPE html><html lang=zh-CN><body>{lines}</body></html>",
        css_files=[str(BASE_CSS)], paper="A5", base_url=THEMES_DIR.as_uri() + "/",
        allowed_roots=[str(THEMES_DIR)],
    )  # fmt: skip


def render_booklet_pdf(
    *,
    booklet: Booklet,
    out_path: Path,
    progress: Progress | None = None,
    chapter_cache: Path | None = None,
    processes: int | None = None,
) -> RenderResult:
    """Render ``booklet`` to ``out_path`` (written atomically)."""
    started = time.monotonic()
    progress = progress or (lambda percent, note: None)
    directory = Path(chapter_cache or cache_dir())
    progress(5, "chapters")
    front_pages = _front_guess(booklet, directory)
    speculated: list[str] = []

    remembered = _front_memory(booklet, directory).is_file()

    def speculate(results: list[dict | None]) -> dict | None:
        chapters = _guessed_chapters(booklet, results)
        page_of = _page_numbers(booklet, chapters, front_pages)[1]
        if not _digits_certain(booklet, results, chapters, page_of, 0 if remembered else 2):
            return None  # the contents would likely come out different: leave it
        job = _front_job(booklet, page_of, directory)
        speculated.append(job["key"])
        return None if cached(directory, job["key"]) else job

    chapters, rendered, workers_started = _render_chapters(
        booklet, progress, directory, processes or workers(), speculate
    )
    # Even when its numbers were guessed wrong, the speculative front matter's length is
    # most likely right (a first print has only an estimate).
    guessed_front = cached(directory, speculated[0]) if speculated else None
    if guessed_front is not None:
        front_pages = guessed_front["pages"]
    timings = {"chapters": time.monotonic() - started}
    progress(88, "contents")
    for _attempt in range(4):
        starts, page_of, where = _page_numbers(booklet, chapters, front_pages)
        front = _front(booklet, page_of, directory)
        if front.info["pages"] == front_pages:
            break
        front_pages = front.info["pages"]
    _front_memory(booklet, directory).write_text(str(front_pages))
    timings["contents"] = time.monotonic() - started - timings["chapters"]
    front_pdf = front.pdf(directory)
    refused = list(front.info["refused"]) + [u for c in chapters for u in c.get("refused", [])]

    progress(94, "binding")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # Named after the PDF, so that a render process killed half-way leaves a folder the
    # job can find and remove (printing.cleanup.remove_partial_files).
    with tempfile.TemporaryDirectory(prefix=f".{out_path.stem}-", dir=out_path.parent) as tmp:
        with ExitStack() as sources:
            # qpdf copies a page's bytes from its source file only when the book is saved,
            # so every source stays open until then.
            pdf = sources.enter_context(pikepdf.new())
            for source in [front_pdf, *(info["pdf"] for info in chapters)]:
                pdf.pages.extend(sources.enter_context(pikepdf.open(source)).pages)
            openers = {start for start in starts}
            stamp_page_numbers(
                pdf=pdf,
                folio=booklet.theme.folio,
                sheet_path=_digit_sheet(booklet, directory),
                skip={0, *openers},
                sources=sources,
            )
            stamp_contents_numbers(
                pdf=pdf,
                sheet_path=_contents_sheet(booklet, directory),
                numbers=_contents_numbers(front, page_of),
                dots=_leader_dots(front),
                sources=sources,
            )
            _add_bookmarks(pdf, booklet, where)
            _add_toc_links(pdf, front, where)
            pdf.docinfo = pdf.make_indirect(
                Dictionary(
                    Title=pikepdf.String(booklet.title),
                    Author=pikepdf.String(booklet.owner_name),
                    Creator=pikepdf.String("Lanbitou"),
                )
            )
            pdf.Root.PageMode = Name.UseOutlines
            page_count = len(pdf.pages)
            partial = Path(tmp) / "book.pdf"
            pdf.save(partial, min_version="1.7")
        shutil.move(partial, out_path)
    prune(directory)
    timings["binding"] = time.monotonic() - started - timings["chapters"] - timings["contents"]
    progress(100, "done")
    return RenderResult(
        path=out_path,
        page_count=page_count,
        size_bytes=out_path.stat().st_size,
        chapters_rendered=rendered,
        chapters_cached=len(chapters) - rendered,
        chapters_set_here=sum(1 for c in chapters if c.get("here")),
        workers_started=workers_started,
        front_cached=front.cached,
        pages_kept=sum(c.get("kept", 0) for c in chapters if "index" in c),
        seconds=time.monotonic() - started,
        page_of=page_of,
        refused_urls=refused,
        timings=timings,
    )
