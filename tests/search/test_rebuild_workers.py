"""A rebuild writes its segments on several processes and gets the index one process would."""

import pytest

from search import backends, index, whoosh_store
from search.engine import Filters
from search.results import scope_for, search_sections
from tests.search.corpus import populate

QUERIES = ["退款", "客", "订单", "refund", "tb20", "質檢", "2023", "客户的"]  # fmt: skip


def snapshot(lead):
    """Everything a search can see: each document, and each query's ranked page."""
    ix = index.open_index()
    documents = sorted(
        (stored["id"], stored["title"], stored["text"], values)
        for stored, values in whoosh_store.documents(ix, index.FINGERPRINT_COLUMNS)
    )
    scope = scope_for(lead)
    pages = {}
    for query in QUERIES:
        outcome = backends.current().search(terms=[query], scope=scope, filters=Filters())
        pages[query] = (outcome.total, [match.section_id for match in outcome.matches])
    return documents, pages, whoosh_store.segment_sizes(ix)


@pytest.mark.django_db
def test_a_rebuild_on_worker_processes_is_the_index_of_one_process(settings, monkeypatch):
    lead, _agents = populate(230, manuals=4, agents=3, seed=11)
    monkeypatch.setattr(index, "REBUILD_SEGMENT", 50)

    settings.SEARCH_REBUILD_WORKERS = 1
    assert backends.current().rebuild().sections == 230
    alone = snapshot(lead)

    settings.SEARCH_REBUILD_WORKERS = 2
    assert backends.current().rebuild().sections == 230
    assert snapshot(lead) == alone
    assert alone[2] == [50, 50, 50, 50, 30]
    assert index.check_index().ok
    found = search_sections(user=lead, query="退款")
    assert found.total == alone[1]["退款"][0] > 0
