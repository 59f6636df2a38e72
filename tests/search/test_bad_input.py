"""No query is an error: odd input is searched as plain text or tidied with a message."""

import pytest

from manuals.tree import SectionContent, add_section
from search.query import MAX_QUERY_LENGTH, parse_query
from search.results import search_sections

ODD = ["*", "?", ":", "(", ")", '"', '*?:()"', "AND", "OR", "NOT", "a AND b", "(退款", '"未闭合']


@pytest.fixture
def manual(alice_manual, fresh_index):
    add_section(
        manual=alice_manual,
        content=SectionContent(
            title="语法字符",
            body='<p>公式 (a*b)? 答: "引号" 以及 a AND b OR NOT 和 &lt;script&gt;</p>'
            '<p>*?:()" 与 (退款 "未闭合</p>',
        ),
    )
    fresh_index()
    return alice_manual


@pytest.mark.parametrize("query", ["", "   ", "\x00\x01\x1f", "\ud800", "\udfff\ud800"])
def test_empty_or_invisible_queries_find_nothing_without_error(manual, alice, query):
    results = search_sections(user=alice, query=query)
    assert results.total == 0 and results.hits == []


@pytest.mark.parametrize("query", ODD)
def test_syntax_characters_are_plain_text(manual, alice, query):
    results = search_sections(user=alice, query=query)
    terms = parse_query(query).terms
    assert terms, query
    # Every hit really contains every term; the syntax section contains all of these.
    assert [h.title for h in results.hits] == ["语法字符"], query


def test_control_characters_and_lone_surrogates_are_dropped(manual, alice):
    results = search_sections(user=alice, query="公\x00式\ud800")
    assert parse_query("公\x00式\ud800").terms == ["公", "式"]
    assert [h.title for h in results.hits] == ["语法字符"]


def test_a_2000_character_query_is_cut_with_a_message(manual, alice):
    results = search_sections(user=alice, query="公式" * 1000)
    assert len(results.query.text) == MAX_QUERY_LENGTH
    assert results.notices and "200" in results.notices[0]
    assert results.total == 0


def test_html_in_the_query_is_text(manual, alice):
    results = search_sections(user=alice, query="<script>")
    assert [h.title for h in results.hits] == ["语法字符"]


def test_filters_only_when_valid():
    parsed = parse_query("退款 kind:rule since:2024-01-01 manual:12 agent:bob")
    assert parsed.terms == ["退款"]
    assert (parsed.kind, str(parsed.since), parsed.manual_id, parsed.agent) == (
        "rule", "2024-01-01", 12, "bob",
    )  # fmt: skip
    parsed = parse_query("kind:nonsense since:yesterday manual:abc TB:2023 :")
    assert parsed.terms == ["kind:nonsense", "since:yesterday", "manual:abc", "TB:2023", ":"]
    assert not parsed.has_filters


def test_quoted_string_is_one_piece():
    assert parse_query('"客户 情绪" 退款').terms == ["客户 情绪", "退款"]
