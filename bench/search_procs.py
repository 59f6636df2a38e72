"""The search benchmark's rebuild and queries in processes of their own, for their peak
memory: the rebuild as ``manage.py rebuild_index`` runs it (with its worker processes),
and a querying process that, like a web worker, only opens the index and answers.

    python bench/search_procs.py rebuild                 # prints one JSON line
    python bench/search_procs.py query QUERIES.json USERNAME

Both expect the environment ``bench.corpus.setup_django`` left (``LANBITOU_DATA_DIR`` …).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM, not ``ru_maxrss``, which after fork and
    exec starts from the forking process's size (the bench's, holding every text for its
    scan: 3.9 GB at a million sections)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_rebuild(engine: str) -> dict:
    """Rebuild ``engine``'s index in a new process: sections, seconds, CPU seconds (the
    process and its workers) and peak RSS in MB (the process; its largest worker)."""
    env = {**os.environ, "LANBITOU_SEARCH_ENGINE": engine}
    out = subprocess.run([sys.executable, __file__, "rebuild"], env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def run_queries(queries: dict[str, list[str]], username: str, engine: str, scratch: Path) -> dict:
    """Time every query in a new process: per query type the engine call and the results
    page (seconds, lists), and the process's peak RSS in MB."""
    path = scratch / "queries.json"
    path.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "LANBITOU_SEARCH_ENGINE": engine}
    out = subprocess.run([sys.executable, __file__, "query", str(path), username], env=env,
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def _setup() -> None:
    from bench.corpus import setup_django

    setup_django(os.environ["LANBITOU_DATA_DIR"], migrate=False)


def _rebuild() -> None:
    _setup()
    from search import backends

    cpu = time.process_time()
    report = backends.current().rebuild()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "sections": report.sections, "seconds": report.seconds,
        "cpu": time.process_time() - cpu + children.ru_utime + children.ru_stime,
        "rss_mb": _peak_mb(),
        # (each worker's ru_maxrss starts from the rebuilding process's size when it forked)
        "worker_rss_mb": children.ru_maxrss / 1024,
    }))  # fmt: skip


def _query(path: str, username: str) -> None:
    _setup()
    from django.contrib.auth import get_user_model

    from search import backends
    from search.engine import Filters
    from search.folding import fold
    from search.results import scope_for, search_sections

    queries = json.loads(Path(path).read_text(encoding="utf-8"))
    user = get_user_model().objects.get(username=username)
    scope = scope_for(user)
    engine = backends.current()
    started_mb = _peak_mb()
    engine.search(terms=["客户"], scope=scope, filters=Filters())  # open the index
    timings = {}
    for qtype, terms in queries.items():
        calls, pages = [], []
        for query in terms:
            t0 = time.perf_counter()
            engine.search(terms=[fold(query)], scope=scope, filters=Filters(), limit=20)
            calls.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            search_sections(user=user, query=query)
            pages.append(time.perf_counter() - t0)
        timings[qtype] = {"engine": calls, "page": pages}
    print(json.dumps({"timings": timings, "rss_mb": _peak_mb(),
                      "rss_before_mb": started_mb, "median_page": statistics.median(
                          [t for v in timings.values() for t in v["page"]])}))  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1] == "rebuild":
        _rebuild()
    elif sys.argv[1] == "query":
        _query(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
