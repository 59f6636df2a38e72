"""Background index work, on the "search" queue of Django's task interface."""

from django_tasks import task

from search import index


@task(queue_name="search")
def reindex_manual(manual_id: int) -> int:
    return index.index_manual_sections(manual_id=manual_id)


@task(queue_name="search")
def index_pending() -> bool:
    return index.index_sections(section_ids=[])


@task(queue_name="search")
def rebuild_search_index() -> int:
    return index.rebuild_index().sections


@task(queue_name="search")
def merge_index_segments() -> bool:
    return index.merge_segments()
