"""A search the PostgreSQL engine cannot answer within its time limit is stopped: the
results page says so and how to narrow it, find in one manual answers from the database,
and nothing stays broken afterwards. (A table lock held by another connection makes the
query wait past the limit, as a pathological query would run past it.)"""

import psycopg
import pytest
from django.urls import reverse

from search import backends, pg_engine

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_default_database"),
]


@pytest.fixture
def locked_search_table(postgres_url, monkeypatch, settings):
    settings.SEARCH_ENGINE = "postgres"
    monkeypatch.setattr(pg_engine, "QUERY_TIMEOUT", "1s")

    def lock():
        other = psycopg.connect(postgres_url)
        other.execute("LOCK TABLE search_entry IN ACCESS EXCLUSIVE MODE")
        return other

    return lock


def test_a_search_past_the_time_limit_is_stopped_with_advice(
    client, alice, alice_manual, locked_search_table
):
    backends.current().rebuild()
    client.force_login(alice)
    results = reverse("search:results")
    find = reverse("search:find_in_manual", args=[alice_manual.pk])
    other = locked_search_table()
    try:
        page = client.get(results, {"q": "的内容"})
        found = client.get(find, {"q": "的内容"}).json()
    finally:
        other.close()
    text = page.content.decode()
    assert page.status_code == 200
    assert "这次搜索太慢，已停止" in text and "搜索索引暂时不可用" not in text
    assert found["total"] == 9 and not found["index_unavailable"]
    assert "找到 9 个章节" in client.get(results, {"q": "的内容"}).content.decode()


def test_the_query_settings_end_with_the_query(client, alice, alice_manual, settings):
    """Outside a transaction and inside one: later statements of the connection (other
    pages' queries) run with the server's own planner settings and no time limit."""
    from django.db import connection, transaction

    from search.results import search_sections

    settings.SEARCH_ENGINE = "postgres"
    backends.current().rebuild()

    def current():
        with connection.cursor() as cursor:
            names = ("enable_seqscan", "statement_timeout", "jit", "work_mem")
            cursor.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names))
            return cursor.fetchone()

    before = current()
    assert search_sections(user=alice, query="的内容").total == 9
    assert current() == before
    with transaction.atomic():
        assert search_sections(user=alice, query="的内容").total == 9
        assert current() == before
