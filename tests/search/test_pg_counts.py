"""A one-character query on the PostgreSQL engine: its total and per-agent and per-manual
counts come from ``search_count`` and its page from a walk of the newest rows, so both
must say exactly what the database says — through edits, visibility changes, trash,
transfers and deleted manuals — and a page must not read every hit."""

from collections import Counter

import pytest
from django.db import connection

from manuals.models import Section
from manuals.tree import SectionContent, add_section, create_manual, save_section_content
from search import backends, pg_engine
from search.engine import Filters
from search.folding import fold
from search.results import scope_for
from tests.conftest import section_titled

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.usefixtures("postgres_default_database"),
]

SHARED, LEAD, PRIVATE = (Section.Visibility.SHARED, Section.Visibility.LEAD,
                         Section.Visibility.PRIVATE)  # fmt: skip


@pytest.fixture
def engine(settings, monkeypatch):
    settings.SEARCH_ENGINE = "postgres"
    # The counts answer queries with more hits than the general query ranks by
    # occurrences (COUNTED_HITS): here every query with a hit, so that a dozen sections
    # stand for the tens of thousands.
    monkeypatch.setattr(pg_engine, "COUNTED_HITS", 0)
    return backends.current()


def expected(user, char: str, *, owner_id=None, manual_id=None):
    """What the database says: the readable live sections holding ``char`` (folded),
    title hits first, newest first, then by id; and the counts per agent and manual."""
    from search.analysis import html_to_text

    sections = Section.objects.readable_by(user).live().filter(level__gt=0)
    sections = sections.select_related("manual")
    rows = []
    for s in sections:
        if char not in fold(s.title + "\n" + html_to_text(s.body)):
            continue
        if owner_id is not None and s.manual.owner_id != owner_id:
            continue
        if manual_id is not None and s.manual_id != manual_id:
            continue
        rows.append((char in fold(s.title), int(s.updated_at.timestamp()), s.pk, s))
    rows.sort(key=lambda r: (not r[0], -r[1], r[2]))
    by_owner = Counter(r[3].manual.owner_id for r in rows)
    by_manual = Counter(r[3].manual_id for r in rows)
    return [(r[2], int(r[0])) for r in rows], by_owner, by_manual


def assert_answers(engine, users, chars=("退", "款", "客")):
    for user in users:
        scope = scope_for(user)
        for char in chars:
            order, by_owner, by_manual = expected(user, char)
            outcome = engine.search(terms=[char], scope=scope, filters=Filters(), limit=1000)
            assert outcome.total == len(order), (user.username, char)
            assert +outcome.by_owner == by_owner and +outcome.by_manual == by_manual
            assert [(m.section_id, m.title_terms) for m in outcome.matches] == order
            for offset, limit in ((0, 2), (1, 3), (max(len(order) - 2, 0), 5), (len(order) + 4, 5)):
                page = engine.search(terms=[char], scope=scope, filters=Filters(),
                                     offset=offset, limit=limit)  # fmt: skip
                assert page.total == len(order)
                got = [(m.section_id, m.title_terms) for m in page.matches]
                assert got == order[offset : offset + limit], (char, offset, limit)
    assert engine.check().ok


@pytest.fixture
def world(alice, bob, lena):
    alice_manual = create_manual(owner=alice, title="王丽的手册")
    bob_manual = create_manual(owner=bob, title="李波的手册")
    for manual, rows in (
        (alice_manual, [("退款流程", "客户要求退款", SHARED), ("杂项", "退货退款", LEAD),
                        ("私下记录", "客户退款太多", PRIVATE), ("客诉", "投诉升级", SHARED),
                        ("退貨說明", "客戶退款", SHARED)]),
        (bob_manual, [("杂记", "退款已到账", SHARED), ("退款复盘", "款项", PRIVATE),
                      ("客服话术", "您好", LEAD), ("退款", "退款退款", SHARED)]),
    ):  # fmt: skip
        for title, body, visibility in rows:
            content = SectionContent(title=title, body=f"<p>{body}</p>", visibility=visibility)
            add_section(manual=manual, content=content)
    backends.current().rebuild()
    return alice_manual, bob_manual


def test_counts_and_pages_of_a_common_character_are_what_the_database_says(
    engine, world, alice, bob, lena
):
    assert_answers(engine, [alice, bob, lena])
    alice_manual, bob_manual = world
    scope = scope_for(lena)
    for kwargs in ({"owner_id": bob.pk}, {"manual_id": alice_manual.pk}):
        filters = Filters(**kwargs)
        order, by_owner, _by_manual = expected(lena, "退", **kwargs)
        outcome = engine.search(terms=["退"], scope=scope, filters=filters)
        assert [(m.section_id, m.title_terms) for m in outcome.matches] == order
        assert outcome.total == len(order) and +outcome.by_owner == by_owner


def test_counts_follow_edits_visibility_trash_transfer_and_deleted_manuals(
    engine, world, alice, bob, lena, committed
):
    from manuals.circulation.handover import transfer_manual
    from manuals.tree import delete_manual, trash_section

    alice_manual, bob_manual = world
    section = section_titled(alice_manual, "杂项")
    with committed():  # the character leaves the text and enters the title; shared now
        content = SectionContent(title="退回说明", body="<p>已处理</p>", visibility=SHARED)
        save_section_content(section=section, expected_version=section.version, content=content)
    assert_answers(engine, [alice, bob, lena])
    section = section_titled(alice_manual, "退款流程")
    with committed():  # private now: only Alice counts it
        content = SectionContent(title="退款流程", body="<p>客户要求退款</p>", visibility=PRIVATE)
        save_section_content(section=section, expected_version=section.version, content=content)
    assert_answers(engine, [alice, bob, lena])
    with committed():
        trash_section(section=section_titled(bob_manual, "退款"))
    assert_answers(engine, [alice, bob, lena])
    with committed():
        transfer_manual(manual=bob_manual, successor=alice, user=lena)
    assert_answers(engine, [alice, bob, lena])
    with committed():
        delete_manual(manual=alice_manual)
    assert_answers(engine, [alice, bob, lena])
    assert not pg_engine.SearchCount.objects.filter(manual_id=alice_manual.pk).exists()


def test_a_section_the_asker_may_no_longer_read_is_neither_counted_nor_shown(
    engine, world, alice, bob
):
    alice_manual, _bob_manual = world
    hidden = section_titled(alice_manual, "退款流程")
    scope = scope_for(bob)
    before = engine.search(terms=["退"], scope=scope, filters=Filters())
    assert hidden.pk in {m.section_id for m in before.matches}
    outcome = engine.search(terms=["退"], scope=scope, filters=Filters(),
                            unreadable=frozenset({hidden.pk}))  # fmt: skip
    assert outcome.total == before.total - 1
    assert hidden.pk not in {m.section_id for m in outcome.matches}
    assert outcome.by_owner[alice.pk] == before.by_owner[alice.pk] - 1
    assert outcome.by_manual[alice_manual.pk] == before.by_manual[alice_manual.pk] - 1


def test_check_finds_counts_that_disagree_and_a_rebuild_mends_them(engine, world):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE search_count SET n = n + 1 WHERE code = %s", [ord("退")])
    drift = engine.check()
    assert drift.counts and not drift.ok and not (drift.missing or drift.extra or drift.stale)
    engine.rebuild()
    assert engine.check().ok


def tuples_read() -> int:
    """Rows of search_entry this transaction has read so far, by any kind of scan."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = 'search_entry'"
        )
        return cursor.fetchone()[0]


def test_the_first_page_of_a_common_character_reads_a_page_of_rows_not_every_hit(
    settings, monkeypatch
):
    from tests.search.corpus import populate

    settings.SEARCH_ENGINE = "postgres"
    monkeypatch.setattr(pg_engine, "COUNTED_HITS", 100)
    lead, _agents = populate(1_200, manuals=4, agents=3, seed=5, real=True)
    engine = backends.current()
    engine.rebuild()
    scope = scope_for(lead)
    hits = engine.search_ids(terms=["的"], scope=scope)
    assert len(hits) > 600
    before = tuples_read()
    outcome = engine.search(terms=["的"], scope=scope, filters=Filters(), limit=20)
    read = tuples_read() - before
    assert outcome.total == len(hits) and len(outcome.matches) == 20
    # The title hits (collected from the GIN index) and the page's rows, not every hit.
    assert read < len(hits) / 2, f"read {read} rows for a page of 20 of {len(hits)} hits"
    deeper = engine.search(terms=["的"], scope=scope, filters=Filters(), offset=300, limit=20)
    assert [m.section_id for m in deeper.matches] == [
        m.section_id
        for m in engine.search(terms=["的"], scope=scope, filters=Filters(), limit=320).matches
    ][300:]


def test_a_page_asked_with_its_counts_in_one_round_trip_follows_counts_that_changed(
    engine, world, alice, lena, committed
):
    """Once a query's counts are known, its page is asked in the same round trip as its
    counts, planned by the counts seen before; fresh counts that put the page elsewhere
    (a title hit more) have it asked again."""
    executed = []

    def count(execute, sql, params, many, context):
        if "set_config" in sql:  # a search's round trip (not a test's savepoints)
            executed.append(sql)
        return execute(sql, params, many, context)

    scope = scope_for(lena)
    engine.search(terms=["退"], scope=scope_for(alice), filters=Filters(), offset=2, limit=2)
    with connection.execute_wrapper(count):  # a teammate asked a minute ago: planned by it
        page = engine.search(terms=["退"], scope=scope, filters=Filters(), offset=2, limit=2)
    assert len(executed) == 1  # counts and page together
    order, _o, _m = expected(lena, "退")
    assert [(m.section_id, m.title_terms) for m in page.matches] == order[2:4]
    alice_manual, _bob_manual = world
    section = section_titled(alice_manual, "客诉")
    with committed():  # one more title hit: every other hit moves down one place
        content = SectionContent(title="退换客诉", body="<p>投诉升级</p>", visibility=SHARED)
        save_section_content(section=section, expected_version=section.version, content=content)
    order, by_owner, _m = expected(lena, "退")
    for offset in (0, 1, 2, 3):
        page = engine.search(terms=["退"], scope=scope, filters=Filters(), offset=offset, limit=2)
        assert [(m.section_id, m.title_terms) for m in page.matches] == order[offset : offset + 2]
        assert page.total == len(order) and +page.by_owner == by_owner


@pytest.mark.django_db(transaction=True)  # the rebuild's VACUUM runs outside transactions
def test_the_walk_for_a_page_of_title_hits_reads_the_index_alone(settings):
    """What the walk tests of a row (title, reading rule, filters) is in the index it walks:
    after a rebuild, no row is read from the table for the rows it passes over."""
    import json

    from tests.search.corpus import populate

    settings.SEARCH_ENGINE = "postgres"
    lead, _agents = populate(1_200, manuals=4, agents=3, seed=5, real=True)
    engine = backends.current()
    engine.rebuild()
    scope = scope_for(lead)
    narrowed = [("team_id = %s", [scope.team_id]), pg_engine._readable(scope)]
    # Counts of a centre's common character (most rows have it in their title): walked.
    parts, (sql, params) = pg_engine._page_plan("的", scope, narrowed, 0, 20,
                                                titled=100_000, total=100_000)  # fmt: skip
    assert parts == [(True, 0, 20)] and "grams" not in sql
    with connection.cursor() as cursor:  # with the settings a search runs with
        for name, value in pg_engine.QUERY_SETTINGS.items():
            cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        for name in pg_engine.QUERY_SETTINGS:
            cursor.execute(f"RESET {name}")
    plan = plan if isinstance(plan, list) else json.loads(plan)

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    walks = [n for n in nodes(plan[0]["Plan"]) if n.get("Index Name") == "search_entry_recent"]
    found = [(n["Node Type"], n.get("Heap Fetches")) for n in walks]
    assert found == [("Index Only Scan", 0)], json.dumps(plan, indent=1)[:3000]


def round_trips(call) -> tuple[object, list[str]]:
    """``call()``'s result and the statements it sent the database, one per round trip."""
    sent = []

    def keep(execute, sql, params, many, context):
        if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):  # the test's transaction's
            sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        result = call()
    return result, sent


@pytest.mark.parametrize("query", ["退", "退款"])
def test_a_results_page_asks_the_database_twice(engine, world, alice, lena, query):
    """Each round trip costs about half a millisecond beyond its query on a busy machine
    (the database process wakes up): the reader's recent changes are asked inside the
    engine's round trip, the manuals' titles with the hits' rows in the next."""
    from search.results import search_sections

    for user in (alice, lena):  # compiled and prepared, and the counts seen
        search_sections(user=user, query=query)
    for user in (alice, lena):
        results, sent = round_trips(lambda user=user: search_sections(user=user, query=query))
        order, by_owner, by_manual = expected(user, query)
        assert [h.section_id for h in results.hits] == [pk for pk, _titled in order]
        assert {pk: n for pk, _name, n in results.agents} == by_owner
        assert {pk: n for pk, _title, n in results.manuals} == by_manual
        assert len(sent) == 2, (len(sent), [q[:40] for q in sent])


def test_the_pages_lookups_are_prepared_once_per_connection(engine, world, alice, lena):
    """Planning the hits' rows with their ancestors took longer than running them: the
    connection prepares each lookup once (one name per SQL, whoever asks it), and later
    pages execute them by name, with the same rows."""
    from search import prepared as prepared_module
    from search.results import search_sections

    with connection.cursor() as cursor:  # as a new connection starts (earlier tests' are gone)
        cursor.execute("DEALLOCATE ALL")
    prepared_module._prepared_on.pop(connection.connection, None)
    # The manuals' titles and the hits' rows with their ancestors; then a lead's hits' rows
    # (the manuals' titles are asked alike for everyone).
    for user, new_statements in ((alice, 2), (lena, 1)):
        first, sent_first = round_trips(lambda user=user: search_sections(user=user, query="退"))
        again, sent_again = round_trips(lambda user=user: search_sections(user=user, query="退"))
        order, _by_owner, _by_manual = expected(user, "退")
        for results in (first, again):
            assert [h.section_id for h in results.hits] == [pk for pk, _titled in order]
        assert [h.path for h in again.hits] == [h.path for h in first.hits]
        assert len([q for q in sent_first if q.startswith("PREPARE lb_")]) == new_statements
        assert not any(q.startswith("PREPARE") for q in sent_again)
        assert sum(q.count("EXECUTE lb_") for q in sent_again) == 2


def test_a_session_that_lost_what_it_prepared_prepares_it_again(engine, world, alice):
    """A pooler between the web process and the database (or DISCARD ALL) can take the
    prepared statements away: the page prepares them again and answers."""
    from search.results import search_sections

    before = search_sections(user=alice, query="退")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    again, sent = round_trips(lambda: search_sections(user=alice, query="退"))
    assert [h.section_id for h in again.hits] == [h.section_id for h in before.hits] != []
    assert again.total == before.total
    assert len([q for q in sent if q.startswith("PREPARE lb_")]) == 2


@pytest.mark.django_db(transaction=True)  # as a web request asks: outside a transaction
def test_outside_a_transaction_the_page_prepares_executes_and_prepares_again(engine, world, alice):
    from search import prepared as prepared_module
    from search.results import search_sections

    assert not connection.in_atomic_block
    prepared_module._prepared_on.pop(connection.connection, None)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    order, _by_owner, _by_manual = expected(alice, "退")
    first, sent_first = round_trips(lambda: search_sections(user=alice, query="退"))
    again, sent_again = round_trips(lambda: search_sections(user=alice, query="退"))
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # the session loses them
    lost, sent_lost = round_trips(lambda: search_sections(user=alice, query="退"))
    for results in (first, again, lost):
        assert [h.section_id for h in results.hits] == [pk for pk, _titled in order]
    assert len([q for q in sent_first if q.startswith("PREPARE lb_")]) == 2
    assert not any(q.startswith(("PREPARE", "SAVEPOINT")) for q in sent_again)
    assert len(sent_again) == 2
    assert len([q for q in sent_lost if q.startswith("PREPARE lb_")]) == 2


def test_a_column_a_migration_changed_gets_its_lookups_prepared_again(engine, world, alice):
    """A prepared lookup is planned for its columns' types: after a migration changes one
    (here the manuals' titles), the database refuses to run the old plan, and the page
    prepares it anew instead of failing until the connection is replaced."""
    from search.results import search_sections

    before = search_sections(user=alice, query="退")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # (the test's rows are checked first)
        cursor.execute("ALTER TABLE manuals_manual ALTER COLUMN title TYPE varchar(301)")
    after = search_sections(user=alice, query="退")
    assert [h.section_id for h in after.hits] == [h.section_id for h in before.hits] != []
    assert [h.manual_title for h in after.hits] == [h.manual_title for h in before.hits]


@pytest.mark.parametrize("query", ["退", "退款"])
def test_sections_made_private_behind_the_index_are_hidden_by_the_page(
    engine, world, alice, bob, query
):
    """The index says shared, the database private (their index writes are still to come):
    the results page neither shows nor counts them, in its two round trips (once the counts
    that plan a one-character page are seen) — on every page, the title hits' count
    included, and an agent whose every hit is hidden is not listed at all."""
    from search.results import search_sections

    alice_manual, _bob_manual = world
    hers = search_sections(user=alice, query=query).total
    before = search_sections(user=bob, query=query)
    for title, alice_listed in (("退款流程", True), ("退貨說明", False)):  # both title hits
        section = section_titled(alice_manual, title)
        assert section.pk in {h.section_id for h in before.hits}
        Section.objects.filter(pk=section.pk).update(visibility=PRIVATE)
        search_sections(user=bob, query=query)  # the page planned by the counts as they are
        results, sent = round_trips(lambda: search_sections(user=bob, query=query))
        assert len(sent) == 2, (len(sent), [q[:40] for q in sent])
        order, by_owner, by_manual = expected(bob, query)
        assert section.pk not in {pk for pk, _titled in order}
        assert [h.section_id for h in results.hits] == [pk for pk, _titled in order]
        assert results.total == len(order)
        assert {pk: n for pk, _name, n in results.agents} == by_owner
        assert (alice.pk in by_owner) == alice_listed
        assert {pk: n for pk, _title, n in results.manuals} == by_manual
        for per_page in (1, 2):  # pages across the end of the title hits
            pages = [search_sections(user=bob, query=query, page=n, per_page=per_page)
                     for n in range(1, len(order) + 2)]  # fmt: skip
            assert [h.section_id for p in pages for h in p.hits] == [pk for pk, _t in order]
            assert {p.total for p in pages} == {len(order)}
    assert results.total == before.total - 2
    assert search_sections(user=alice, query=query).total == hers  # the owner's still
