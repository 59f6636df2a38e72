"""Full recall and precision on real Chinese text, for the lead and for an agent.

Real text is not spread like generated text: a few characters are in nearly every section,
Traditional and Simplified mix within one manual. The reference is a plain scan.
"""

import random

import pytest

from manuals.models import Section
from search import backends
from search.analysis import html_to_text
from search.folding import fold
from tests.search.corpus import populate
from tests.search.recall_cases import found_ids, scan, to_variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_corpus(db):
    lead, agents = populate(600, manuals=3, agents=3, seed=5, real=True)
    backends.current().rebuild()
    return lead, agents[0]


def texts_readable_by(user) -> dict[int, str]:
    rows = Section.objects.readable_by(user).filter(level__gt=0)
    return {
        pk: fold(t) + "\n" + fold(html_to_text(b))
        for pk, t, b in rows.values_list("id", "title", "body")
    }


def test_real_text_has_full_recall_and_precision_for_lead_and_agent(real_corpus):
    lead, agent = real_corpus
    rng = random.Random(3)
    for user in (lead, agent):
        texts = texts_readable_by(user)
        assert any(any("\u4e00" <= c <= "\u9fff" for c in t) for t in texts.values())
        queries = ["的", "不", "质量", "質量", "很失望", "客服", "订单", "物流", "好评"]
        for length in (1, 2, 3, 4, 6):
            for _ in range(4):
                text = rng.choice(list(texts.values()))
                start = rng.randrange(max(1, len(text) - length))
                piece = "".join(text[start : start + length].split())
                if piece:
                    queries.append(to_variant(rng, piece))
        for query in queries:
            assert found_ids(user, query) == scan(texts, [query]), (user.username, query)
