"""Search finds exactly what a plain substring scan finds, after folding."""

import random

import pytest

from manuals.models import Section
from search import backends
from search.analysis import html_to_text
from search.folding import fold
from search.results import search_sections
from tests.search.corpus import populate

pytestmark = pytest.mark.django_db


def scan(texts: dict[int, str], terms: list[str]) -> set[int]:
    """The reference: a plain substring scan of every section's folded title and text."""
    wanted = [fold(t) for t in terms]
    return {pk for pk, text in texts.items() if all(t in text for t in wanted)}


def found_ids(user, query: str) -> set[int]:
    results = search_sections(user=user, query=query, per_page=1000)
    assert results.total == len(results.hits), "everything fits on one page here"
    return {hit.section_id for hit in results.hits}


def to_variant(rng: random.Random, text: str) -> str:
    """Type the query the way another person might: Traditional, full-width or upper case."""
    roll = rng.random()
    if roll < 0.2:
        table = {"户": "戶", "质": "質", "检": "檢", "货": "貨", "诉": "訴", "后": "後", "发": "發"}
        return "".join(table.get(c, c) for c in text)
    if roll < 0.35:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    if roll < 0.5:
        return text.upper()
    return text


@pytest.fixture
def corpus(db, monkeypatch):
    lead, agents = populate(400, manuals=4, agents=2, seed=11)
    # All three levels: every other private section is shared with the lead.
    private = Section.objects.filter(level__gt=0, visibility=Section.Visibility.PRIVATE)
    half = list(private.order_by("pk").values_list("pk", flat=True))[::2]
    Section.objects.filter(pk__in=half).update(visibility=Section.Visibility.LEAD)
    # Several segments, as a large rebuild makes, and edits on top of them.
    monkeypatch.setattr("search.index.REBUILD_SEGMENT", 150)
    backends.current().rebuild()
    edited = Section.objects.filter(level__gt=0).order_by("pk")[:5]
    backends.current().index_sections(section_ids=[s.pk for s in edited])
    # The reference is what the lead may read: the team's shared and lead-visible sections
    # and the lead's own (the scan must find exactly those, nothing kept to oneself).
    readable = Section.objects.readable_by(lead).filter(level__gt=0)
    assert readable.filter(visibility=Section.Visibility.LEAD).exists()
    assert readable.count() < Section.objects.filter(level__gt=0).count()
    texts = {
        pk: fold(t) + "\n" + fold(html_to_text(b))
        for pk, t, b in readable.values_list("id", "title", "body")
    }
    return lead, texts


def test_random_substrings_have_full_recall_and_precision(corpus):
    lead, texts = corpus
    rng = random.Random(5)
    queries = []
    for length in (1, 1, 2, 2, 3, 4, 5, 6, 8, 12):
        for _ in range(6):
            text = rng.choice(list(texts.values()))
            start = rng.randrange(max(1, len(text) - length))
            piece = " ".join(text[start : start + length].split())
            if piece:
                queries.append(to_variant(rng, piece))
    queries += ["TB2023", "tb20", "２０２", "refund", "REFUND", "質檢", "客户 退款", "著作", "着作"]
    queries += ["不存在的内容xyz", "SF2", '"客户 情绪"', "6%", "元；"]
    for query in queries:
        terms = [query.strip('"')] if query.startswith('"') else query.split()
        expected = scan(texts, terms)
        assert found_ids(lead, query) == expected, query


def test_traditional_and_full_width_queries_find_simplified_and_half_width(alice, fresh_index):
    from tests.conftest import build_manual

    manual = build_manual(alice, "手册", [("质检标准 TB2023-001", []), ("臺灣著作權", [])])
    fresh_index()
    assert {h.title for h in search_sections(user=alice, query="質檢").hits} == {
        "质检标准 TB2023-001"
    }
    assert search_sections(user=alice, query="ｔｂ２０２３").total == 1
    assert search_sections(user=alice, query="台湾着作").total == 1
    assert search_sections(user=alice, query="检").total == 1
    assert manual.pk
