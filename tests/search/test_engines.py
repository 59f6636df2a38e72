"""Both search engines give the same answers: the recall, precision and permission cases
(and the results and find-in-manual views) run once with Whoosh and once with PostgreSQL,
on a real PostgreSQL database (``postgres_url``)."""

import pytest

from tests.search.permission_cases import (  # noqa: F401
    manuals,
    test_a_section_made_private_is_not_counted_while_its_index_update_waits,
    test_bobs_private_section_never_reaches_alice,
    test_find_in_manual_counts_only_readable_sections,
    test_only_the_owner_finds_a_section_kept_to_oneself,
    test_other_team_sees_nothing_of_ours,
    test_path_hides_private_ancestors,
    test_search_command_respects_permissions,
    test_template_sections_are_readable_by_agents,
    test_the_lead_finds_what_is_shared_with_the_lead,
)
from tests.search.recall_cases import (  # noqa: F401
    corpus,
    test_random_substrings_have_full_recall_and_precision,
    test_traditional_and_full_width_queries_find_simplified_and_half_width,
)
from tests.search.recall_real_cases import (  # noqa: F401
    real_corpus,
    test_real_text_has_full_recall_and_precision_for_lead_and_agent,
)
from tests.search.test_views import (  # noqa: F401
    test_filters_and_pagination,
    test_find_in_manual_json,
    test_find_starts_at_the_section_being_read_even_one_the_page_has_not_loaded,
    test_html_in_query_and_content_is_escaped,
    test_results_page_groups_hits_with_highlighted_snippets,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("engine_settings")]


def test_each_engine_answers_from_its_own_index(search_engine, alice, alice_manual, fresh_index):
    from django.db import connection

    from search.models import SearchEntry
    from search.results import search_sections

    assert search_sections(user=alice, query="质检标准").total == 1
    if search_engine == "postgres":
        assert connection.vendor == "postgresql"
        assert SearchEntry.objects.filter(title="质检标准").exists()


def test_an_edit_is_found_and_a_trashed_section_is_gone_right_after_commit(
    alice, alice_manual, fresh_index, committed
):
    from manuals.tree import SectionContent, save_section_content, trash_section
    from search.results import search_sections
    from tests.conftest import section_titled

    section = section_titled(alice_manual, "考勤制度")
    with committed():
        content = SectionContent(title="考勤制度", body="<p>打卡补签</p>")
        save_section_content(
            section=section, expected_version=section.version, user=alice, content=content
        )
    assert [h.title for h in search_sections(user=alice, query="补签").hits] == ["考勤制度"]
    with committed():
        trash_section(section=section_titled(alice_manual, "考勤制度"), user=alice)
    assert search_sections(user=alice, query="补签").total == 0


def test_check_finds_drift_and_a_rebuild_mends_it(alice, alice_manual, fresh_index):
    from manuals.models import Section
    from search import backends
    from tests.conftest import section_titled

    engine = backends.current()
    assert engine.check().ok and engine.exists()
    section = section_titled(alice_manual, "考勤制度")
    Section.objects.filter(pk=section.pk).update(title="考勤制度（新）")  # no signal
    drift = engine.check()
    assert drift.stale == [section.pk] and not drift.missing and not drift.extra
    Section.objects.filter(pk=section.pk).update(trashed_at="2024-01-01T00:00Z")
    assert engine.check().extra == [section.pk]
    fresh_index()
    assert engine.check().ok


def test_hits_rank_by_terms_in_the_title_then_by_occurrences(alice, fresh_index):
    from manuals.tree import SectionContent, add_section, create_manual
    from search.results import search_sections

    manual = create_manual(owner=alice, title="排序")
    for title, body in (("杂项", "退款一次"), ("退款流程", "说明"), ("其他", "退款退款退款")):
        add_section(manual=manual, target=None, content=SectionContent(title=title, body=body))
    fresh_index()
    for query in ("退款", "退", "退款 说明"):
        hits = search_sections(user=alice, query=query).hits
        expected = ["退款流程", "其他", "杂项"] if query != "退款 说明" else ["退款流程"]
        assert [h.title for h in hits] == expected, query


def test_a_match_carries_its_folded_text_for_counts_and_marks(alice, fresh_index):
    """The page counts and marks occurrences in the folded text the index keeps (long
    texts are not folded again for every hit shown); Traditional and full-width content
    is still marked where it stands."""
    from manuals.tree import SectionContent, add_section, create_manual
    from search import backends
    from search.folding import fold
    from search.results import scope_for, search_sections

    manual = create_manual(owner=alice, title="繁體")
    body = "<p>客戶說：訂單ＴＢ２０２３的退款還沒到。" + "退款" * 3 + "</p>"
    add_section(manual=manual, target=None, content=SectionContent(title="退款說明", body=body))
    fresh_index()
    outcome = backends.current().search(
        terms=[fold("退款")], scope=scope_for(alice), filters=backends.Filters()
    )
    (match,) = outcome.matches
    assert match.folded == fold(match.title + "\n" + match.text)
    (hit,) = search_sections(user=alice, query="退款").hits
    assert hit.count == 5 and hit.title_hit
    assert [piece for piece, marked in hit.title_parts if marked] == ["退款"]
    assert "".join(piece for piece, marked in hit.snippet if marked) == "退款" * 4
    (hit,) = search_sections(user=alice, query="tb2023").hits
    assert [piece for piece, marked in hit.snippet if marked] == ["ＴＢ２０２３"]


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_outside_a_transaction_indexes_every_section_once(search_engine):
    """As the worker runs it: committed sections, several batches (PostgreSQL writes them
    from two threads, each on its own connection), a row of a deleted section dropped."""
    from manuals.models import Section
    from search import backends
    from search.folding import fold
    from search.results import scope_for
    from tests.search.corpus import populate

    lead, _agents = populate(1_300, manuals=3, agents=2, seed=3, real=True)
    engine = backends.current()
    engine.rebuild()
    written = _row_versions(search_engine)
    gone, edited = Section.objects.filter(level__gt=0).order_by("-id")[:2]
    Section.objects.filter(pk=gone.pk).delete()
    Section.objects.filter(pk=edited.pk).update(title="改过的标题")
    report = engine.rebuild()

    assert report.sections == 1_299
    assert engine.check().ok
    if search_engine == "postgres":  # unchanged rows are not written again
        rewritten = {pk for pk, version in _row_versions(search_engine).items()
                     if written[pk] != version}  # fmt: skip
        assert rewritten == {edited.pk}
    scope = scope_for(lead)
    readable = Section.objects.readable_by(lead).live().filter(level__gt=0)
    for section in readable.order_by("?")[:5]:
        term = fold(section.title)
        found = engine.search_ids(terms=[term], scope=scope)
        assert section.pk in found
        assert gone.pk not in found


def _row_versions(search_engine: str) -> dict[int, str]:
    """PostgreSQL's row version (xmin) of every index row."""
    from django.db import connection

    if search_engine != "postgres":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT section_id, xmin::text FROM search_entry")
        return dict(cursor.fetchall())
