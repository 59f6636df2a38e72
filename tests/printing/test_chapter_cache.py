"""Re-printing after editing one chapter re-renders only that chapter, numbers stay right."""

from manuals.models import Section
from manuals.tree import SectionContent, save_section_content
from printing.booklet import BookletOptions, assemble_booklet
from printing.render import render_booklet_pdf
from tests.printing.conftest import long_text, outline_titles, page_texts, toc_numbers


def in_processes(booklet, tmp_path, processes: int):
    """``booklet`` rendered by that many processes, with a chapter cache of their own."""
    name = "p" if processes > 1 else "a"
    return render_booklet_pdf(
        booklet=booklet,
        out_path=tmp_path / f"{name}.pdf",
        processes=processes,
        chapter_cache=tmp_path / f"cache-{name}",
    )


def set_here_last(monkeypatch) -> None:
    """The chapter this process sets beside its worker is held back until the worker has
    set the front matter on its guess, so that the lanes end in a known order. Left to the
    machine's load, the two last chapters may end at one moment, and then no lane is idle to
    guess (nothing would be gained by it: the front matter is set after them)."""
    import threading
    import time
    from pathlib import Path

    from printing import render as render_module

    set_here = render_module._set_here

    def held(function, job):
        result = set_here(function, job)
        if threading.current_thread() is not threading.main_thread():  # a lane, not alone
            deadline = time.monotonic() + 60
            while not any(Path(job["cache_dir"]).glob("front-*.pdf")):
                if time.monotonic() > deadline:
                    break  # no guess came: the test's assertions say so
                time.sleep(0.02)
        return result

    monkeypatch.setattr(render_module, "_set_here", held)


def booklet_of(owner, title: str, sections):
    """A new manual of ``owner`` holding ``sections``, assembled with the default options."""
    from manuals.bulk import insert_sections
    from manuals.tree import create_manual

    manual = create_manual(owner=owner, title=title)
    insert_sections(manual=manual, parent=None, sections=sections)
    return assemble_booklet(manual=manual, options=BookletOptions())


def render(manual, path, **options):
    booklet = assemble_booklet(manual=manual, options=BookletOptions(**options))
    return render_booklet_pdf(booklet=booklet, out_path=path)


def test_an_unchanged_manual_comes_entirely_from_the_cache(illustrated_manual, tmp_path):
    first = render(illustrated_manual, tmp_path / "1.pdf")
    again = render(illustrated_manual, tmp_path / "2.pdf")
    assert (first.chapters_rendered, first.chapters_cached) == (3, 0)
    assert (again.chapters_rendered, again.chapters_cached) == (0, 3)
    assert (first.front_cached, again.front_cached) == (False, True)
    assert page_texts(first.path) == page_texts(again.path)
    assert outline_titles(first.path) == outline_titles(again.path)


def test_a_renamed_section_gets_new_contents(illustrated_manual, alice, tmp_path):
    render(illustrated_manual, tmp_path / "1.pdf")
    section = Section.objects.get(manual=illustrated_manual, title="快捷回复")
    save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(title="快捷回复模板", body=section.body),
        user=alice,
    )
    again = render(illustrated_manual, tmp_path / "2.pdf")
    assert not again.front_cached  # the contents list the new title
    assert "快捷回复模板" in [t for t, _n in toc_numbers(page_texts(again.path)[1:3])]


def test_editing_one_chapter_rerenders_it_alone_and_later_numbers_follow(
    illustrated_manual, alice, tmp_path
):
    before = render(illustrated_manual, tmp_path / "before.pdf")
    section = Section.objects.get(manual=illustrated_manual, title="考勤制度")
    save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(title="考勤制度", body=long_text(40), visibility="shared"),
        user=alice,
    )
    after = render(illustrated_manual, tmp_path / "after.pdf")
    assert (after.chapters_rendered, after.chapters_cached) == (1, 2)
    assert after.page_count > before.page_count  # the first chapter grew by several pages
    shift = after.page_count - before.page_count
    later = Section.objects.get(manual=illustrated_manual, title="工作复盘").pk
    assert after.page_of[later] == before.page_of[later] + shift
    texts = page_texts(after.path)
    for title, number in toc_numbers(texts[1:3]):
        assert title in texts[number - 1]
    for _depth, title, page in outline_titles(after.path):
        assert title in texts[page - 1]
    chapters = Section.objects.filter(manual=illustrated_manual, level=1)
    openers = {after.page_of[c.pk] for c in chapters}
    for number in range(2, len(texts) + 1):  # the stamped numbers follow the new page order
        if number not in openers:
            lines = [x.strip() for x in texts[number - 1].strip().splitlines() if x.strip()]
            assert lines[-1] == str(number)


def test_a_different_theme_or_paper_does_not_reuse_chapters(illustrated_manual, tmp_path):
    render(illustrated_manual, tmp_path / "a.pdf")
    other = render(illustrated_manual, tmp_path / "b.pdf", paper="A4")
    assert other.chapters_rendered == 3


def test_chapters_nobody_printed_for_weeks_are_pruned(illustrated_manual, tmp_path):
    import os
    import time

    from printing.render import cache_dir

    render(illustrated_manual, tmp_path / "a.pdf")
    old = sorted(p for p in cache_dir().glob("*.pdf") if not p.name.startswith(("folio", "front")))
    assert len(old) == 3
    stale = time.time() - 60 * 86400
    os.utime(old[0], (stale, stale))
    render(illustrated_manual, tmp_path / "b.pdf", paper="A4")
    assert not old[0].exists() and old[1].exists()


def test_a_big_manual_renders_its_chapters_in_parallel_worker_processes(
    illustrated_manual, tmp_path, monkeypatch
):
    # Big manuals (over PARALLEL_THRESHOLD_CHARS of HTML) are set by worker processes too
    # (spawned ones must start without Django; once they could not, and every big manual
    # failed: see the test below).
    # The rendering process sets chapters too: a print worker's is warm (WeasyPrint
    # loaded, fonts read), it once sat idle while cold workers started.
    from printing import render as render_module

    monkeypatch.setattr(render_module, "PARALLEL_THRESHOLD_CHARS", 0)
    booklet = assemble_booklet(manual=illustrated_manual, options=BookletOptions())
    parallel = in_processes(booklet, tmp_path, 2)
    alone = in_processes(booklet, tmp_path, 1)
    assert parallel.chapters_rendered == 3
    assert 1 <= parallel.chapters_set_here < 3  # the others by the one worker beside it
    assert alone.chapters_set_here == 3
    assert page_texts(parallel.path) == page_texts(alone.path)


def test_chapter_workers_are_spawned_while_another_thread_runs(
    illustrated_manual, tmp_path, monkeypatch
):
    # A render process with no other thread forks its chapter worker, which starts as
    # warm as it is (test_jobs: a print worker's render process). With another thread
    # running, a fork could copy a lock that thread holds: the worker is spawned, starting
    # from nothing and without Django. The same booklet as one set by this process alone.
    import threading

    from printing import render as render_module

    monkeypatch.setattr(render_module, "PARALLEL_THRESHOLD_CHARS", 0)
    booklet = assemble_booklet(manual=illustrated_manual, options=BookletOptions())
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        spawned = in_processes(booklet, tmp_path, 2)
    finally:
        stop.set()
        other.join()
    alone = in_processes(booklet, tmp_path, 1)
    assert (spawned.workers_started, alone.workers_started) == ("spawn", "")
    assert spawned.chapters_set_here < spawned.chapters_rendered == 3  # some by the worker
    assert page_texts(spawned.path) == page_texts(alone.path)


def test_pages_shifting_restamps_the_contents_numbers_without_setting_the_contents_again(
    alice, tmp_path
):
    from manuals.bulk import NewSection, insert_sections
    from manuals.tree import create_manual

    manual = create_manual(owner=alice, title="翻页手册")
    insert_sections(
        manual=manual,
        parent=None,
        sections=[
            NewSection(1, "管理制度", long_text(45)),  # every later entry lies past page 9
            NewSection(2, "考勤制度", long_text(6)),
            NewSection(2, "质检标准", long_text(6)),
            NewSection(1, "工作复盘", long_text(3)),
            NewSection(2, "退款纠纷", long_text(6)),
        ],
    )
    before = render(manual, tmp_path / "before.pdf")
    section = Section.objects.get(manual=manual, title="考勤制度")
    save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(title="考勤制度", body=long_text(12)),
        user=alice,
    )
    after = render(manual, tmp_path / "after.pdf")
    shift = after.page_count - before.page_count
    assert shift > 0 and (after.chapters_rendered, after.chapters_cached) == (1, 1)
    texts = page_texts(after.path)
    listed = dict(toc_numbers(texts[1:2]))
    assert set(listed) == {"管理制度", "考勤制度", "质检标准", "工作复盘", "退款纠纷"}
    # Same number of digits everywhere, so the same contents pages serve: only the
    # numbers stamped on them change.
    digits = {k: len(str(n)) for k, n in before.page_of.items()}
    assert digits == {k: len(str(n)) for k, n in after.page_of.items()}
    assert after.front_cached
    for title, number in listed.items():
        assert number == after.page_of[Section.objects.get(manual=manual, title=title).pk]
        assert title in texts[number - 1]
    for title in ("工作复盘", "退款纠纷"):  # the next chapter moved by the whole shift
        assert listed[title] == before.page_of[Section.objects.get(title=title).pk] + shift


def test_a_worker_with_no_chapter_left_sets_the_front_matter(alice, tmp_path, monkeypatch):
    # The page numbers of the contents are guessed while the last chapter is being set;
    # when the guess gives each number its final count of digits, that front matter is
    # the one bound (nothing is left to set once the chapters are done).
    from manuals.bulk import NewSection
    from printing import render as render_module

    monkeypatch.setattr(render_module, "PARALLEL_THRESHOLD_CHARS", 0)
    booklet = booklet_of(
        alice,
        "并行手册",
        [
            NewSection(1, "管理制度", long_text(60)),  # pages 3 to about 23
            NewSection(1, "工作复盘", long_text(4)),
            NewSection(2, "退款纠纷", long_text(5)),
            NewSection(1, "学习工具", long_text(4)),
            NewSection(2, "快捷回复", long_text(5)),
        ],
    )
    set_here_last(monkeypatch)
    parallel = in_processes(booklet, tmp_path, 2)
    alone = in_processes(booklet, tmp_path, 1)
    assert parallel.front_cached and not alone.front_cached
    texts = page_texts(parallel.path)
    assert texts == page_texts(alone.path)
    listed = dict(toc_numbers(texts[1:2]))
    assert set(listed) == {"管理制度", "工作复盘", "退款纠纷", "学习工具", "快捷回复"}
    for title, number in listed.items():
        assert title in texts[number - 1]


def test_the_front_matter_is_guessed_right_though_entries_cross_from_one_digit_to_two(
    alice, tmp_path, monkeypatch
):
    # The contents leave every number the room of the last page number's digits: whether
    # the chapter still being set ends on page 9 or 11 does not change their layout.
    from manuals.bulk import NewSection
    from printing import render as render_module

    monkeypatch.setattr(render_module, "PARALLEL_THRESHOLD_CHARS", 0)
    booklet = booklet_of(
        alice,
        "进位手册",
        [
            NewSection(1, "管理制度", long_text(24)),  # pages 3 to about 10
            NewSection(1, "工作复盘", long_text(3)),
            NewSection(2, "退款纠纷", long_text(24)),
            NewSection(1, "学习工具", long_text(2)),
            NewSection(2, "快捷回复", long_text(3)),
        ],
    )
    set_here_last(monkeypatch)  # the guess is made while 工作复盘 (pages 10 on) is being set
    parallel = in_processes(booklet, tmp_path, 2)
    listed = dict(toc_numbers(page_texts(parallel.path)[1:2]))
    assert listed["管理制度"] < 10 <= listed["工作复盘"]
    assert parallel.front_cached  # set by the worker that had no chapter left
    texts = page_texts(parallel.path)
    for title, number in listed.items():
        assert title in texts[number - 1]
    alone = in_processes(booklet, tmp_path, 1)
    assert texts == page_texts(alone.path)


def test_a_chapter_that_cannot_be_set_fails_the_print_and_leaves_no_worker(
    illustrated_manual, tmp_path, monkeypatch
):
    # Both lanes fail (the cache cannot be written): the error reaches the caller, nothing
    # more is started, and the chapter worker beside this process is gone.
    import multiprocessing

    import pytest

    from printing import render as render_module

    monkeypatch.setattr(render_module, "PARALLEL_THRESHOLD_CHARS", 0)
    booklet = assemble_booklet(manual=illustrated_manual, options=BookletOptions())
    (tmp_path / "not-a-folder").write_text("")
    with pytest.raises(OSError):
        render_booklet_pdf(booklet=booklet, out_path=tmp_path / "x.pdf", processes=2,
                           chapter_cache=tmp_path / "not-a-folder" / "cache")  # fmt: skip
    assert multiprocessing.active_children() == []
    assert not (tmp_path / "x.pdf").exists()
