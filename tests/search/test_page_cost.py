"""The results page costs a constant number of queries, whatever the hits."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from manuals.bulk import NewSection, insert_sections
from manuals.models import Section
from manuals.tree import create_manual
from tests.conftest import make_user


def agents_with_cases(team, prefix: str, n_agents: int, per_agent: int):
    """Agents named like real people: no display name, a first and last name (so a name
    comes from the user row, as for accounts made in the admin)."""
    for i in range(n_agents):
        agent = make_user(f"{prefix}{i}", team)
        get_user_model().objects.filter(pk=agent.pk).update(first_name="客服", last_name=f"{i}号")
        agent.member.display_name = ""
        agent.member.save(update_fields=["display_name"])
        manual = create_manual(owner=agent, title=f"{prefix}的手册{i}")
        insert_sections(
            manual=manual, parent=None, user=agent,
            sections=[
                NewSection(depth=1, title=f"退款复盘{k}", body="<p>客户要求退款，订单已签收</p>",
                           visibility=Section.Visibility.SHARED)
                for k in range(per_agent)
            ],
        )  # fmt: skip


def page_queries(client, query: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("search:results"), {"q": query})
    assert response.status_code == 200
    return len(queries)


def test_the_results_page_costs_the_same_for_few_and_many_hits(client, lena, fresh_index):
    team = lena.member.team
    agents_with_cases(team, "agent", n_agents=2, per_agent=1)
    fresh_index()
    client.force_login(lena)
    few = page_queries(client, "退款")
    agents_with_cases(team, "more", n_agents=10, per_agent=3)
    fresh_index()
    many = page_queries(client, "退款")
    assert many == few, (few, many)
    html = client.get(reverse("search:results"), {"q": "退款"}).content.decode()
    assert "客服" in html  # names come from the user rows, loaded with the page


pytestmark = pytest.mark.django_db


def section_steps(sql: str, params) -> list[str]:
    """SQLite's plan steps for the sections table in one statement."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [row[-1] for row in cursor.fetchall() if "manuals_section" in row[-1]]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query planner")
def test_the_results_page_reads_sections_by_key_not_through_the_teams_manuals(
    client, lena, fresh_index
):
    """Given ids (the page's hits, their parents, the sections changed lately), every
    section lookup goes by primary key. With the team as a condition SQLite probed every
    manual of the team for every id: 20 ms a page at 200,000 sections in 200 manuals."""
    agents_with_cases(lena.member.team, "agent", n_agents=3, per_agent=2)
    fresh_index()
    client.force_login(lena)
    statements = []

    def keep(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        response = client.get(reverse("search:results"), {"q": "退款"})
    assert response.status_code == 200
    assert "<mark>退款</mark>复盘1" in response.content.decode()
    steps = [
        step
        for sql, params in statements
        if "manuals_section" in sql and sql.lstrip().startswith("SELECT")
        for step in section_steps(sql, params)
    ]
    assert steps
    slow = [s for s in steps if "manual_id" in s or s.startswith("SCAN")]
    assert not slow, slow
    # The sections changed lately (all of them, here) come from one index range, without
    # reading their rows: a busy team changes thousands of sections in INDEX_LAG.
    recent = [s for s in steps if "(updated_at>?)" in s]
    assert recent == ["SEARCH manuals_section USING COVERING INDEX section_recent (updated_at>?)"]


def test_an_owner_without_a_member_row_is_named_by_login(client, lena, fresh_index):
    """An account whose member row an administrator removed keeps its manual: the page
    names it by its login, as the rest of the site does."""
    agents_with_cases(lena.member.team, "gone", n_agents=1, per_agent=1)
    owner = get_user_model().objects.get(username="gone0")
    owner.member.delete()
    fresh_index()
    client.force_login(lena)
    html = client.get(reverse("search:results"), {"q": "退款"}).content.decode()
    assert "gone0" in html and "客服 0号" not in html


def test_the_pages_reading_rule_is_each_readers_own(bob_manual, alice, bob, lena):
    """The page re-checks hits with lookups compiled once per reader and process: one
    reader's never answers for another reader, nor for the same one in another role."""
    from search.engine import Scope
    from search.results import sections_by_id

    chapters = Section.objects.filter(manual=bob_manual, level__gt=0).order_by("lft")[:2]
    kept = {}
    for visibility, section in zip(
        (Section.Visibility.PRIVATE, Section.Visibility.LEAD), chapters, strict=True
    ):
        Section.objects.filter(pk=section.pk).update(visibility=visibility)
        kept[visibility] = section.pk
    team = lena.member.team_id

    def readable(user, is_lead: bool, team_id: int = team) -> set[str]:
        scope = Scope(user_id=user.pk, team_id=team_id, is_lead=is_lead)
        ok = dict(sections_by_id(scope, ("pk", "readable"), kept.values()))
        return {v for v, pk in kept.items() if ok[pk]}

    assert readable(lena, is_lead=True) == {Section.Visibility.LEAD}
    assert readable(lena, is_lead=False) == set()  # demoted: the lead's lookup is not reused
    assert readable(bob, is_lead=False) == set(kept)
    assert readable(alice, is_lead=False) == set()
    assert readable(lena, is_lead=True) == {Section.Visibility.LEAD}
    assert readable(bob, is_lead=False, team_id=team + 1000) == set()  # moved to another team
