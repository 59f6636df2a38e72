"""Order IDs and English words: the grams and word tokens that make them fast stay exact.

An English word is often proven by its word token without reading the text, and ID
fragments up to five characters are answered from their grams alone. Each shortcut must
still give exactly the plain substring scan's answer — including words inside longer
words, hyphenated words, and titles — with exact counts on the hits shown.
"""

import numpy as np
import pytest

from manuals.models import Section
from manuals.tree import SectionContent, save_section_content
from search.analysis import html_to_text
from search.folding import fold
from search.index import check_index, index_sections, rebuild_index
from search.packing import pack_ids, pack_weights, unpack_ids, unpack_weights
from search.results import search_sections
from tests.conftest import build_manual

pytestmark = pytest.mark.django_db

SECTIONS = [
    ("Refund 规则", "<p>refund 要在 24 小时内处理，订单 TB2023123456。</p>"),
    ("退款 refunds 复盘", "<p>客户要求 refunds，两次 refund-request，单号 JD2024000111。</p>"),
    ("prerefund 流程", "<p>prerefunded 的订单 TB2023999999 不再 REFUND。</p>"),
    ("Follow-up 清单", "<p>follow-up 三天内完成；followup 写进工单 SF2022123123。</p>"),
    ("全角单号", "<p>ＴＢ２０２３１２３４５６ 与 ｒｅｆｕｎｄ 混写。</p>"),
    ("无关章节", "<p>客户情绪安抚，没有英文，也没有单号。</p>"),
    ("e-mail 模板", "<p>发 e-mail 或 email 给客户，refund 金额 99 元。</p>"),
]
QUERIES = [
    "refund", "REFUND", "refunds", "efun", "fund", "prerefund", "refund-request", "request",
    "follow-up", "followup", "follow", "ollow-u", "w-up", "e-mail", "email", "mail",
    "tb2023", "TB2023123456", "2023", "202", "20231", "123456", "3123", "999999",
    "ｒｅｆｕｎｄ", "２０２３", "jd2024000111", "sf2022", "99 元", "refund 2023", "quickly",
]  # fmt: skip


def texts_of(manual) -> dict[int, str]:
    rows = Section.objects.filter(manual=manual, level__gt=0).values_list("id", "title", "body")
    return {pk: fold(title + "\n" + html_to_text(body)) for pk, title, body in rows}


def scan(texts: dict[int, str], query: str) -> dict[int, int]:
    """Section id → occurrences of every term, for sections holding them all."""
    terms = [fold(t) for t in query.split()]
    return {
        pk: sum(text.count(t) for t in terms)
        for pk, text in texts.items()
        if all(t in text for t in terms)
    }


def check_against_scan(user, manual) -> None:
    texts = texts_of(manual)
    titles = {pk: text.split("\n", 1)[0] for pk, text in texts.items()}
    for query in QUERIES:
        expected = scan(texts, query)
        results = search_sections(user=user, query=query, per_page=100)
        assert results.total == len(expected), query
        assert {h.section_id: h.count for h in results.hits} == expected, query
        terms = [fold(t) for t in query.split()]
        for hit in results.hits:
            in_title = any(t in titles[hit.section_id] for t in terms)
            assert hit.title_hit == in_title, (query, hit.title)
        # Title hits rank first.
        flags = [h.title_hit for h in results.hits]
        assert flags == sorted(flags, reverse=True), query


def test_words_ids_and_fragments_match_the_scan_exactly(alice):
    manual = build_manual(alice, "手册", [(t, []) for t, _b in SECTIONS])
    for section, (_title, body) in zip(
        Section.objects.filter(manual=manual, level__gt=0).order_by("lft"), SECTIONS, strict=True
    ):
        save_section_content(
            section=section, expected_version=section.version,
            content=SectionContent(title=section.title, body=body, kind=section.kind,
                                   visibility=section.visibility),
        )  # fmt: skip
    rebuild_index()
    check_against_scan(alice, manual)


def test_edits_after_a_rebuild_and_segment_merges_stay_exact(alice):
    """Incremental writes go through Whoosh's own writer and merges; they read and write
    the packed posting blocks too."""
    manual = build_manual(alice, "手册", [(t, []) for t, _b in SECTIONS])
    rebuild_index()
    sections = list(Section.objects.filter(manual=manual, level__gt=0).order_by("lft"))
    for round_ in range(3):  # many small segments, merged along the way
        for section, (_title, body) in zip(sections, SECTIONS, strict=True):
            section.refresh_from_db()
            save_section_content(
                section=section, expected_version=section.version,
                content=SectionContent(title=section.title, body=body + f"<p>第{round_}轮</p>",
                                       kind=section.kind, visibility=section.visibility),
            )  # fmt: skip
            index_sections(section_ids=[section.pk])
    assert check_index().ok
    check_against_scan(alice, manual)
    assert search_sections(user=alice, query="第2轮").total == len(SECTIONS)
    assert search_sections(user=alice, query="第0轮").total == 0


def test_packed_blocks_round_trip():
    ids = np.array([0, 1, 2, 300, 70_000, 5_000_000_000])
    assert unpack_ids(pack_ids(ids)).tolist() == ids.tolist()
    assert unpack_ids(pack_ids([3, 4, 9])).tolist() == [3, 4, 9]
    assert pack_ids([3, 4, 9])[:1] == b"B"  # small gaps take a byte each
    assert pack_weights([1.0, 1.0]) is None
    assert unpack_weights(None, 2).tolist() == [1, 1]
    assert unpack_weights(pack_weights([1.0, 300.0]), 2).tolist() == [1, 300]
    assert unpack_weights(pack_weights([0.5, 2.0]), 2).tolist() == [0.5, 2.0]


def test_filters_alone_list_every_readable_section_they_let_through(client, alice, bob):
    build_manual(alice, "爱丽丝的手册", [("规则一", []), ("复盘一", [])])
    build_manual(bob, "鲍勃的手册", [("鲍勃的规则", [])])
    Section.objects.filter(title="规则一").update(kind=Section.Kind.RULE)
    Section.objects.filter(title="复盘一").update(kind=Section.Kind.RETROSPECTIVE)
    Section.objects.filter(title="鲍勃的规则").update(kind=Section.Kind.RULE)
    rebuild_index()
    found = search_sections(user=alice, query="kind:rule")
    # Bob's section is private: alice sees only her own rule.
    assert [h.title for h in found.hits] == ["规则一"]
    client.force_login(alice)
    page = client.get("/search/", {"kind": "rule"}).content.decode()
    assert "规则一" in page and "复盘一" not in page and "鲍勃的规则" not in page
    page = client.get("/search/", {"kind": "project"}).content.decode()
    assert "没有符合这些条件的章节。" in page
