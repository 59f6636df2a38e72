"""A hit's path (the titles of its ancestors the reader may read) is read with the hits:
the same path as walking up level by level, with no query per level up to three levels."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from manuals.models import Section
from manuals.tree import SectionContent, add_section, create_manual
from search.results import search_sections

PRIVATE, LEAD, SHARED = (Section.Visibility.PRIVATE, Section.Visibility.LEAD,
                         Section.Visibility.SHARED)  # fmt: skip


@pytest.fixture
def deep_manual(alice):
    """A chain eight levels deep, each level another visibility, a hit at every level."""
    manual = create_manual(owner=alice, title="王丽的手册")
    parent = None
    for level, visibility in enumerate([PRIVATE, SHARED, LEAD, SHARED, PRIVATE, SHARED,
                                        LEAD, SHARED], start=1):  # fmt: skip
        parent = add_section(
            manual=manual, target=parent,
            content=SectionContent(title=f"第{level}层", body=f"<p>层级案例{level}</p>",
                                   visibility=visibility),
        )  # fmt: skip
    return manual


def walked_path(user, section: Section) -> list[str]:
    """The titles of the section's ancestors ``user`` may read, top first, as the database
    says it: each ancestor's own row through the reading rule."""
    readable = set(Section.objects.readable_by(user).values_list("pk", flat=True))
    path = [a.title for a in section.get_ancestors() if a.level > 0 and a.pk in readable]
    return path


def test_every_hit_shows_the_ancestors_its_reader_may_read(
    deep_manual, alice, bob, lena, fresh_index
):
    fresh_index()
    for user in (alice, bob, lena):
        hits = search_sections(user=user, query="层级案例").hits
        readable = Section.objects.readable_by(user).filter(manual=deep_manual, level__gt=0)
        assert {h.section_id for h in hits} == set(readable.values_list("pk", flat=True))
        for hit in hits:
            section = Section.objects.get(pk=hit.section_id)
            assert hit.path == walked_path(user, section), (user.username, section.title)


def test_hits_up_to_four_levels_deep_cost_no_query_per_level(deep_manual, alice, fresh_index):
    fresh_index()
    with CaptureQueriesContext(connection) as queries:
        hits = search_sections(user=alice, query="层级案例4").hits
    assert [h.path for h in hits] == [["第1层", "第2层", "第3层"]]
    sections = [q["sql"] for q in queries.captured_queries if 'FROM "manuals_section"' in q["sql"]]
    assert len(sections) == 2  # the reader's recent changes, the hits with their ancestors
    with CaptureQueriesContext(connection) as queries:
        hits = search_sections(user=alice, query="层级案例8").hits
    assert [h.path for h in hits] == [[f"第{n}层" for n in range(1, 8)]]
