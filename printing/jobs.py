"""Print jobs: requesting an edition, the background task, and the render subprocess.

The task (queue "printing", run by ``db_worker``) reads the database and assembles the
booklet, then hands it to a fresh ``manage.py render_booklet`` process with a time and a
memory limit: WeasyPrint does not give memory back, and a hostile manual must not be able
to hang or swell the worker. The child never touches the database; it reports progress on
stdout and the task records it.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import queue
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import (
    get_language,
    get_supported_language_variant,
    ngettext,
    override,
)
from django.utils.translation import gettext as _
from django_tasks import task

from manuals.access import owner_or_lead
from manuals.models import Manual, Section
from manuals.storage import editions_storage
from manuals.tree import lock_manual
from manuals.workers import abandoned_tasks, close_abandoned_task, task_argument
from printing.booklet import BookletOptions, PrintError, assemble_booklet
from printing.cleanup import remove_edition_files, remove_partial_files, work_dir
from printing.models import Edition, PrintSchedule, Scope
from printing.print_images import prune_print_copies
from printing.render import cache_dir, render_booklet_pdf, workers

TIME_LIMIT = getattr(settings, "LANBITOU_PRINT_TIME_LIMIT", 900)  # seconds
# Resident memory of the render process and its chapter workers together.
MEMORY_LIMIT_MB = getattr(settings, "LANBITOU_PRINT_MEMORY_MB", 1536)

# One agent's editions on the way (queued or rendering) at once: the printing queue is the
# team's, and one person must not be able to fill it.
MAX_ACTIVE_PER_USER = getattr(settings, "LANBITOU_PRINT_QUEUE_PER_USER", 3)

log = logging.getLogger(__name__)


def may_print_everything(manual: Manual, user) -> bool:
    """Whether ``user`` may choose to print every section they can read, not only the
    shared ones: the owner (all of it) and the team's lead (what is shared with the lead).
    The sections themselves are always filtered by what the requester may read."""
    return owner_or_lead(user, manual)


def request_edition(
    *,
    manual: Manual,
    user,
    options: BookletOptions,
    schedule: PrintSchedule | None = None,
    language: str | None = None,
) -> tuple[Edition, bool]:
    """Queue an edition, or return the same one already queued (False) — never two at once.

    The booklet is printed in ``language``, by default the requester's (the active one).
    Raises PrintError when there is nothing to print.
    """
    if user is not None and not may_print_everything(manual, user):
        # A teammate prints what the team may read: the shared sections.
        options = BookletOptions(**{**options.as_dict(), "scope": Scope.SHARED})
    assemble_check(manual=manual, options=options, user=user)
    recover_abandoned_editions()  # a dead worker's edition is not "the one already queued"
    with transaction.atomic():
        lock_manual(manual.pk)
        edition = Edition(
            manual=manual,
            requested_by=user,
            title=options.title.strip(),
            theme=options.theme,
            paper=options.paper,
            scope=options.scope,
            subtree_id=options.subtree_id,
            image_style=options.image_style,
            schedule=schedule,
            language=booklet_language(language),
        )
        active = Edition.objects.active().filter(manual=manual)
        running = active.filter(edition.same_options()).first()
        if running is not None:
            return running, False
        if active.exists():
            raise PrintError(_("这本手册已有一版正在排队或生成，请等它完成后再打印另一种版本。"))
        if user is not None and (
            Edition.objects.active().filter(requested_by=user).count() >= MAX_ACTIVE_PER_USER
        ):
            raise PrintError(
                _("你已有 %(n)d 个印刷版在排队或生成，请等它们完成后再提交新的。")
                % {"n": MAX_ACTIVE_PER_USER}
            )
        edition.save()
        transaction.on_commit(lambda: print_edition.enqueue(edition.pk))
    return edition, True


def booklet_language(language: str | None = None) -> str:
    """``language`` or the active one, as one of settings.LANGUAGES (else the default)."""
    try:
        return get_supported_language_variant(language or get_language() or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def assemble_check(*, manual: Manual, options: BookletOptions, user) -> None:
    sections = Section.objects.filter(manual=manual, level__gt=0).live()
    if user is not None:
        sections = sections.readable_by(user)
    if options.scope == Scope.SHARED:
        sections = sections.filter(visibility=Section.Visibility.SHARED)
    if options.subtree_id:
        top = sections.filter(pk=options.subtree_id).first()
        if top is None:
            raise PrintError(_("选定的章节不存在或你无权打印。"))
        sections = sections.subtree_of(top)
    if not sections.exists():
        raise PrintError(_("没有可打印的章节：这本手册是空的，或所选范围内没有章节。"))


@task(queue_name="printing")
def print_edition(edition_id: int) -> str:
    return run_edition(edition_id=edition_id)


def _set(edition_id: int, **fields) -> int:
    return Edition.objects.filter(pk=edition_id).update(**fields)


def limit_memory(megabytes: int) -> None:
    """Called by the render process on itself; its chapter workers inherit the limit."""
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_edition(*, edition_id: int, time_limit: int | None = None) -> str:
    """Render one queued edition in a fresh process; returns its final status."""
    language = Edition.objects.filter(pk=edition_id).values_list("language", flat=True).first()
    # Progress notes and failure reasons are read by the requester: their language too.
    with override(language or settings.LANGUAGE_CODE):
        return _run_edition(edition_id, time_limit)


def _run_edition(edition_id: int, time_limit: int | None) -> str:
    claimed = Edition.objects.filter(pk=edition_id, status=Edition.Status.QUEUED).update(
        status=Edition.Status.RENDERING, started_at=timezone.now(), progress=1,
        progress_note=_("正在整理章节"),
    )  # fmt: skip
    if not claimed:
        return "skipped"  # already taken by another worker, or cancelled
    edition = Edition.objects.select_related("manual__owner", "manual__team").get(pk=edition_id)
    try:
        booklet = assemble_booklet(
            manual=edition.manual, options=edition.options(), user=edition.requested_by,
            language=edition.language,
        )  # fmt: skip
    except PrintError as error:
        _fail(edition_id, str(error))
        return Edition.Status.FAILED
    relative = f"{edition.manual_id}/edition-{edition.pk}-{timezone.localdate():%Y%m%d}.pdf"
    out = work_dir() / relative  # this machine's disk; stored once it is whole
    # The booklet (private sections too) goes to the render process through a pipe: no
    # file holding it is left behind when a process is killed.
    spec = pickle.dumps(
        {"booklet": booklet, "out": str(out), "cache": str(cache_dir()),
         "processes": workers()}
    )  # fmt: skip
    try:
        outcome = _run_child(edition_id, spec, time_limit or TIME_LIMIT)
        if not outcome.get("error"):
            with open(out, "rb") as pdf:
                stored = editions_storage().save(relative, File(pdf, name=out.name))
    finally:
        remove_partial_files(manual_id=edition.manual_id, edition_id=edition_id)
        prune_print_copies()
    if outcome.get("error"):
        _fail(edition_id, outcome["error"])
        return Edition.Status.FAILED
    finished = _set(
        edition_id,
        status=Edition.Status.DONE,
        progress=100,
        progress_note="",
        file=stored,
        page_count=outcome["pages"],
        size_bytes=outcome["size"],
        chapters_rendered=outcome["rendered"],
        chapters_cached=outcome["cached"],
        finished_at=timezone.now(),
    )
    timings = outcome.get("timings") or {}
    log.info(
        "Edition %s printed: %s pages, %s chapters set (%s from the cache), chapter workers: "
        "%s; chapters %.1f s, contents %.1f s, binding %.1f s", edition_id, outcome["pages"],
        outcome["rendered"], outcome["cached"], outcome.get("workers") or "none",
        *(timings.get(part, 0.0) for part in ("chapters", "contents", "binding")),
    )  # fmt: skip
    if not finished:
        # The edition (or its manual) was deleted while it was being printed.
        remove_edition_files(manual_id=edition.manual_id, edition_id=edition_id, names=[stored])
        return "deleted"
    return Edition.Status.DONE


def _fail(edition_id: int, reason: str) -> None:
    _set(edition_id, status=Edition.Status.FAILED, failure_reason=reason[:2000],
         finished_at=timezone.now(), progress_note="")  # fmt: skip


class _Spare:
    """The render process this worker started ahead of its next edition: Django set up,
    WeasyPrint loaded, its fonts read (a second and more of every print otherwise). Each
    edition still gets a process of its own; the next one is started when it is done."""

    lock = threading.Lock()
    child: subprocess.Popen | None = None
    made_for: int = 0  # the environment it was started in (settings come from it)
    wanted = False  # only a worker keeps one (warm_render_process)


def _environment() -> int:
    return hash((sys.executable, str(settings.BASE_DIR), tuple(sorted(os.environ.items()))))


def _start_render_process(*, warm: bool) -> subprocess.Popen:
    # The address-space limit is only a backstop against a runaway allocation; the real
    # limit is the memory of the whole process tree (tree_memory_mb), watched in _run_child.
    backstop = max(3 * MEMORY_LIMIT_MB, 2048)
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "render_booklet",
               "-", "--memory-mb", str(backstop), "--parent-pid", str(os.getpid())]  # fmt: skip
    if warm:
        command.append("--warm")
    # Its own process group, so that a limit stops the chapter workers too; it still dies
    # with this worker (die_with_parent in the render process).
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, cwd=settings.BASE_DIR,
    )  # fmt: skip


def warm_render_process() -> subprocess.Popen | None:
    """Keep a render process ready for the next edition (a worker calls this when it
    starts; every edition it prints then starts the next one). Returns it."""
    if not getattr(settings, "LANBITOU_PRINT_WARM", True):
        return None
    with _Spare.lock:
        _Spare.wanted = True
        if _Spare.child is None or _Spare.child.poll() is not None:
            _Spare.child, _Spare.made_for = _start_render_process(warm=True), _environment()
        return _Spare.child


def wait_until_warm(timeout: float = 60) -> bool:
    """Wait for the spare render process to say it is ready (a worker idle for a moment
    has one ready; benchmarks wait for that). Consumes its "ready" line."""
    with _Spare.lock:
        child = _Spare.child
    if child is None or child.poll() is not None:
        return False
    ready, _w, _x = select.select([child.stdout], [], [], timeout)
    return bool(ready) and b'"ready"' in child.stdout.readline()


def _render_process() -> subprocess.Popen:
    """The spare if there is a live one started in this environment, else a new process."""
    with _Spare.lock:
        child, _Spare.child = _Spare.child, None
        if child is not None and child.poll() is None and _Spare.made_for == _environment():
            return child
    if child is not None and child.poll() is None:
        _stop(child)  # started in another environment (a dead one is reaped already)
    return _start_render_process(warm=False)


def _run_child(edition_id: int, spec: bytes, time_limit: int) -> dict:
    child = _render_process()
    try:
        return _watch_child(edition_id, child, spec, time_limit)
    finally:
        if _Spare.wanted:
            warm_render_process()


def _watch_child(edition_id: int, child: subprocess.Popen, spec: bytes, time_limit: int):
    lines: queue.Queue = queue.Queue()
    errors: list[str] = []
    output: list[str] = []  # what the child printed that is not a report
    readers = [
        threading.Thread(target=_feed, args=(child.stdin, spec), daemon=True),
        threading.Thread(
            target=lambda: [lines.put(x.decode("utf-8", "replace")) for x in child.stdout],
            daemon=True,
        ),
        threading.Thread(
            target=lambda: errors.extend(x.decode("utf-8", "replace") for x in child.stderr),
            daemon=True,
        ),
    ]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + time_limit
    outcome: dict = {}
    last_progress = 0.0
    while True:
        try:
            child.wait(timeout=0.5)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        while not lines.empty():
            message = _report(lines.get(), edition_id, output)
            if "progress" in message and time.monotonic() - last_progress > 0.5:
                last_progress = time.monotonic()
                _set(edition_id, progress=message["progress"],
                     progress_note=progress_note(message["note"]))  # fmt: skip
            outcome.update({k: v for k, v in message.items() if k not in {"progress", "note"}})
        if finished:
            break
        if tree_memory_mb(child.pid) > MEMORY_LIMIT_MB:
            _stop(child)
            return {"error": _("超出内存限制（%(n)d MB），已停止。请分章节打印或联系管理员。")
                    % {"n": MEMORY_LIMIT_MB}}  # fmt: skip
        if time.monotonic() > deadline:
            _stop(child)
            return {"error": _("超过时间限制（%(n)d 秒），已停止。手册可能太大，请分章节打印。")
                    % {"n": time_limit}}  # fmt: skip
    # Everything the child wrote is read once its pipes close, however loaded the machine
    # (a fixed sleep once reported a good PDF as a failure). A chapter worker that still
    # holds a pipe open is stopped with its process group.
    for reader in readers:
        reader.join(timeout=10)
    if any(reader.is_alive() for reader in readers):
        _stop(child)
        for reader in readers:
            reader.join(timeout=5)
    while not lines.empty():
        outcome.update(_report(lines.get(), edition_id, output))
    if "pages" in outcome or outcome.get("error"):
        return outcome
    stderr = "".join(errors)
    if child.returncode in (-signal.SIGKILL, -signal.SIGSEGV) or "MemoryError" in stderr:
        return {"error": _("超出内存限制（%(n)d MB），已停止。请分章节打印或联系管理员。")
                % {"n": MEMORY_LIMIT_MB}}  # fmt: skip
    last = stderr.strip().splitlines()[-1:] or output[-1:] or [str(child.returncode)]
    return {"error": _("生成失败：%(reason)s") % {"reason": last[0][:300]}}


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except (BrokenPipeError, OSError):
        pass  # the child died before reading it all; its exit status says why


def _stop(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _report(line: str, edition_id: int, output: list[str]) -> dict:
    """The JSON report on one line of the render process's stdout, or {} for anything else
    it printed (a library's chatter, a half-written line), which is logged and kept."""
    if line.startswith("{"):
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if isinstance(message, dict):
            message.pop("ready", None)  # a spare render process says when it is warm
            return message
    if line.strip():
        output.append(line.strip())
        log.warning("Render process of edition %s printed: %s", edition_id, line.strip()[:500])
    return {}


def progress_note(note: str) -> str:
    """The render process reports plain steps ("chapters", "3/12", …); the requester reads
    them in their language (the task runs in it)."""
    done, slash, total = note.partition("/")
    if slash:
        many = int(total) if total.isdigit() else 2
        message = ngettext("已排版 %(done)s/%(total)s 章", "已排版 %(done)s/%(total)s 章", many)
        return message % {"done": done, "total": total}
    steps = {
        "chapters": _("正在排版章节"),
        "contents": _("正在生成目录和页码"),
        "binding": _("正在装订成册"),
        "done": _("即将完成"),
    }
    return steps.get(note, note)


def _children(pid: int) -> list[int]:
    found = []
    try:
        task_dirs = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found  # it exited while we looked (a chapter worker that just finished)
    for task_dir in task_dirs:
        try:
            found += [int(c) for c in (task_dir / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_memory_mb(pid: int, *, proportional: bool = True) -> float:
    """Memory of ``pid`` and all its descendants, in MB (0 if not on Linux): each one's
    proportional set size, in which a page shared by n of them counts 1/n in each — a
    chapter worker forked from the render process shares its libraries, fonts and modules
    (summed resident sizes would count them once per process). The resident size where
    the kernel gives no proportional one, or when not ``proportional``."""
    sources = [("status", "VmRSS:")]
    if proportional:
        sources.insert(0, ("smaps_rollup", "Pss:"))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _memory_kb(current, sources)
        todo += _children(current)
    return total / 1024


def _memory_kb(pid: int, sources: list[tuple[str, str]]) -> int:
    for name, field_name in sources:
        try:
            text = Path(f"/proc/{pid}/{name}").read_text()
        except OSError:
            continue  # no such file on this kernel, or the process exited while we looked
        for line in text.splitlines():
            if line.startswith(field_name):
                return int(line.split()[1])
    return 0


def render_spec(spec_bytes: bytes, emit) -> None:
    """The child side: render the pickled booklet, reporting progress through ``emit``."""
    spec = pickle.loads(spec_bytes)
    result = render_booklet_pdf(
        booklet=spec["booklet"],
        out_path=Path(spec["out"]),
        progress=lambda percent, note: emit({"progress": percent, "note": note}),
        chapter_cache=Path(spec["cache"]),
        processes=spec["processes"],
    )
    emit({"pages": result.page_count, "size": result.size_bytes,
          "rendered": result.chapters_rendered, "cached": result.chapters_cached,
          "workers": result.workers_started, "timings": result.timings})  # fmt: skip


def fail_stale_editions(now=None) -> int:
    """Editions left 'rendering' for longer than any render may take are marked failed
    (their worker is on another machine, or could not be asked)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=TIME_LIMIT + 120)
    stale = Edition.objects.filter(status=Edition.Status.RENDERING, started_at__lt=cutoff)
    return stale.update(
        status=Edition.Status.FAILED,
        failure_reason=_("打印进程意外中止，请重新提交。"),
        finished_at=now,
    )


def recover_abandoned_editions() -> int:
    """Editions whose print worker died are failed with the reason, their task closed and
    their half-written files removed; the edition list offers to print again."""
    recovered = 0
    rows = abandoned_tasks(
        task_paths=[print_edition.module_path],
        older_than=timedelta(seconds=TIME_LIMIT + 120),
    )
    for row in rows:
        close_abandoned_task(row, reason="The print worker stopped while running this task.")
        edition = Edition.objects.filter(pk=task_argument(row)).first()
        if edition is None:
            continue
        with override(edition.language or settings.LANGUAGE_CODE):
            reason = _("打印中途后台进程停止了，这一版没有生成。请重新打印。")
        recovered += Edition.objects.filter(
            pk=edition.pk, status__in=[Edition.Status.QUEUED, Edition.Status.RENDERING]
        ).update(
            status=Edition.Status.FAILED, failure_reason=reason, finished_at=timezone.now(),
            progress_note="",
        )  # fmt: skip
        remove_partial_files(manual_id=edition.manual_id, edition_id=edition.pk)
    return recovered + fail_stale_editions()


def run_due_schedules(*, now=None) -> list[Edition]:
    """Queue an edition of every live manual of every team whose schedule is due."""
    now = now or timezone.now()
    queued = []
    fail_stale_editions(now)
    for schedule_id in PrintSchedule.due(now).values_list("pk", flat=True):
        with transaction.atomic():
            schedule = PrintSchedule.objects.select_for_update().get(pk=schedule_id)
            if not schedule.enabled or schedule.next_run_at > now:
                continue  # another print_due got there first
            schedule.last_run_at = now
            schedule.next_run_at = schedule.following(now)
            schedule.save(update_fields=["last_run_at", "next_run_at"])
        manuals = Manual.objects.filter(
            team_id=schedule.team_id, is_template=False, archived_at__isnull=True
        )
        options = BookletOptions(theme=schedule.theme, paper=schedule.paper, scope=schedule.scope)
        for manual in manuals:
            try:
                # A team-wide run is in the team's (the site's) language.
                edition, created = request_edition(
                    manual=manual, user=None, options=options, schedule=schedule,
                    language=settings.LANGUAGE_CODE,
                )  # fmt: skip
            except PrintError:
                continue  # an empty manual has nothing to print this time
            if created:
                queued.append(edition)
    return queued
