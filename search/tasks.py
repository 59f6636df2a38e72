"""Background index work, on the "search" queue of Django's task interface."""

from django_tasks import task

from search import backends, index


@task(queue_name="search")
def reindex_manual(manual_id: int) -> int:
    return backends.current().index_manual(manual_id=manual_id)


@task(queue_name="search")
def index_section_ids(section_ids: list[int]) -> int:
    backends.current().index_sections(section_ids=section_ids)
    return len(section_ids)


@task(queue_name="search")
def index_pending(wait: float | None = None) -> bool:
    """Index the sections web processes left in the pending file (Whoosh: only workers
    write the index), then merge small segments if they piled up."""
    index.release_pending_run()
    done = index.index_sections(section_ids=[], wait=wait)
    if done and index.merge_wanted():
        index.merge_segments()
    return done


@task(queue_name="search")
def rebuild_search_index() -> int:
    return backends.current().rebuild().sections


@task(queue_name="search")
def merge_index_segments() -> bool:
    return index.merge_segments()
