"""The search interface the rest of the site uses: team-wide search and find-in-manual.

Views and the ``search`` command call ``search_sections`` and ``find_in_manual``. Here the
index's matches become hits, checked against the database; the index itself is the
business of the engine ``search.backends`` picks (Whoosh or PostgreSQL).
"""

from __future__ import annotations

import datetime
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from manuals.models import Manual, Member, Section, member_of, reading_rule, walk
from search import backends
from search.analysis import highlight_parts, html_to_text, snippet_parts
from search.engine import Filters, Hidden, Match, Scope
from search.folding import fold
from search.index import KIND_BY_CODE, KIND_CODES, IndexUnavailable, SearchTooSlow
from search.prepared import (
    TIME_MARK,
    Question,
    answers,
    by_id,
    db_time,
    lookup,
    rows_by_id,
    time_mark,
)
from search.query import ParsedQuery, parse_kind, parse_query, parse_since

log = logging.getLogger(__name__)
PER_PAGE = 20
MAX_PAGE = 500


@dataclass
class Hit:
    section_id: int
    manual_id: int
    manual_title: str
    owner_id: int
    owner_name: str
    title: str
    path: list[str]
    kind: str
    kind_label: str
    updated_at: datetime.datetime
    title_hit: bool
    count: int
    title_parts: list[tuple[str, bool]]
    snippet: list[tuple[str, bool]]

    @property
    def snippet_text(self) -> str:
        return "".join(piece for piece, _hit in self.snippet)

    # The results page shows 20 of these: marked up here in one join rather than by a
    # template loop per piece (which was most of the page's time).
    @property
    def title_html(self) -> str:
        return marked(self.title_parts)

    @property
    def snippet_html(self) -> str:
        return marked(self.snippet)

    @property
    def path_text(self) -> str:
        return " › ".join(self.path)


def marked(pieces: list[tuple[str, bool]]) -> str:
    """Text pieces as HTML, the hits in <mark>: everything escaped."""
    return mark_safe(
        "".join(f"<mark>{escape(piece)}</mark>" if hit else escape(piece) for piece, hit in pieces)
    )


@dataclass
class Group:
    owner_name: str
    manual_id: int
    manual_title: str
    hits: list[Hit] = field(default_factory=list)


@dataclass
class SearchResults:
    query: ParsedQuery
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    page: int = 1
    per_page: int = PER_PAGE
    agents: list[tuple[int, str, int]] = field(default_factory=list)  # (user id, name, count)
    manuals: list[tuple[int, str, int]] = field(default_factory=list)
    unavailable: bool = False
    notices: list[str] = field(default_factory=list)

    @property
    def num_pages(self) -> int:
        return max(1, min(MAX_PAGE, math.ceil(self.total / self.per_page)))

    @property
    def groups(self) -> list[Group]:
        """The page's hits grouped by manual, an agent's manuals together: agents in the
        order of their best hit, and each agent's manuals in the order of theirs."""
        groups: dict[int, Group] = {}
        for hit in self.hits:
            group = groups.get(hit.manual_id)
            if group is None:
                group = groups[hit.manual_id] = Group(
                    owner_name=hit.owner_name, manual_id=hit.manual_id,
                    manual_title=hit.manual_title,
                )  # fmt: skip
            group.hits.append(hit)
        by_owner: dict[str, list[Group]] = defaultdict(list)
        for group in groups.values():
            by_owner[group.owner_name].append(group)
        return [group for owner_groups in by_owner.values() for group in owner_groups]


def scope_for(user) -> Scope | None:
    member = member_of(user)
    if member is None:
        return None
    return Scope(user_id=user.pk, team_id=member.team_id, is_lead=member.is_lead)


def _filters(parsed: ParsedQuery, scope: Scope) -> Filters | None:
    """Index filters for the query's filters; None when a filter can match nothing."""
    owner_id = None
    if parsed.agent:
        owner = (
            get_user_model()
            .objects.filter(member__team_id=scope.team_id)
            .filter(Q(username=parsed.agent) | Q(member__display_name=parsed.agent))
            .first()
        )
        if owner is None:
            return None
        owner_id = owner.pk
    since = None
    if parsed.since:
        start = datetime.datetime.combine(parsed.since, datetime.time.min)
        since = int(timezone.make_aware(start).timestamp())
    return Filters(
        owner_id=owner_id,
        manual_id=parsed.manual_id,
        kind_code=KIND_CODES.get(parsed.kind) if parsed.kind else None,
        updated_since=since,
    )


def build_query(
    q: str | None, *, agent: str = "", manual: str = "", kind: str = "", since: str = ""
) -> ParsedQuery:
    """The typed query plus the filter controls of the results page (controls win)."""
    parsed = parse_query(q)
    agent, manual, kind, since = (v.strip() for v in (agent, manual, kind, since))
    if agent:
        parsed.agent = agent[:150]
    if manual.isascii() and manual.isdigit() and len(manual) < 12:
        parsed.manual_id = int(manual)
    if kind and parse_kind(kind):
        parsed.kind = parse_kind(kind)
    if since:
        if parse_since(since):
            parsed.since = parse_since(since)
        else:
            parsed.notices.append(_("日期格式应为 2024-03-01，已忽略这个条件。"))
    return parsed


# How long an edit may wait before the index has it (a busy writer, a worker queue). Sections
# changed within this window are checked against the database, so a section just made
# private is neither shown nor counted while its index update waits.
INDEX_LAG = datetime.timedelta(minutes=15)
RECENT_CHECKED = 100_000
RECENT_CHUNK = 5_000  # ids per statement


def sections_read_by(scope: Scope) -> QuerySet:
    """Sections of manuals (not their hidden roots) with columns for the reading rule of
    the reader ``scope`` describes, for rows looked up by primary key or a range of
    ``updated_at``: ``team``, ``readable`` (the reader may read it and it is not in the
    trash) and ``shown`` (the rule alone: an ancestor's title in a path).

    As columns, not WHERE conditions: with the team in the WHERE clause SQLite drove each
    query by the team's manuals (every manual probed for every id; 21 ms a page at
    200,000 sections in 200 manuals). The page's lookups are compiled from it once per
    reader and process (``search.prepared``: the rule depends on nothing else).
    """
    rule = reading_rule(
        user_id=scope.user_id, team_id=scope.team_id, is_lead=scope.is_lead, prefix="manual__"
    )
    return Section.objects.filter(level__gt=0).annotate(
        team=F("manual__team_id"),
        readable=ExpressionWrapper(rule & Q(trashed_at__isnull=True), output_field=BooleanField()),
        shown=ExpressionWrapper(rule, output_field=BooleanField()),
    )


_HIDDEN = ("pk", "team", "readable")


def recently_hidden_from(scope: Scope) -> Hidden:
    """Of ``sections_read_by(scope)``: the team's sections changed lately (or waiting in the
    pending file) that the user may not read now, whatever the index says about them.

    One range of the ``section_recent`` index, which holds what the reading rule asks of a
    section (SQLite answers from it without reading the rows), newest first; pending
    sections, normally none, by id a chunk at a time. Without pending sections, also as a
    subquery (the PostgreSQL engine asks it inside its own statements).
    """
    since = timezone.now() - INDEX_LAG

    def recent() -> QuerySet:
        newest = sections_read_by(scope).filter(updated_at__gte=TIME_MARK)
        # The bound keeps the newest changes (after a bulk import of more than
        # RECENT_CHECKED sections, the import's oldest rows go unchecked).
        return newest.order_by("-updated_at").values_list(*_HIDDEN)[:RECENT_CHECKED]

    newest = lookup(("recent", scope), recent, [time_mark()])
    params = newest.bound([db_time(since)])
    waiting = backends.current().pending_ids()

    def ids() -> frozenset[int]:
        rows = answers([Question(newest, params)])[0]
        pending = list(waiting - {pk for pk, _team, _ok in rows})
        for start in range(0, min(len(pending), RECENT_CHECKED), RECENT_CHUNK):
            rows += sections_by_id(scope, _HIDDEN, pending[start : start + RECENT_CHUNK])
        return frozenset(pk for pk, team, ok in rows if team == scope.team_id and not ok)

    subquery = None
    if not waiting:
        subquery = (
            f"SELECT r.pk FROM ({newest.sql}) AS r(pk, team, readable) "
            "WHERE r.team = %s AND r.readable IS NOT TRUE",
            [*params, scope.team_id],
        )
    return Hidden(ids, subquery)


def sections_by_id(scope: Scope, columns: tuple[str, ...], ids) -> list[tuple]:
    """``columns`` of the rows of ``sections_read_by(scope)`` with these ids (a lookup
    compiled once per reader, columns and number of ids)."""
    return rows_by_id(
        ("sections", scope, columns),
        lambda marks: sections_read_by(scope).filter(pk__in=marks).values_list(*columns),
        ids,
    )


def search_sections(*, user, query: ParsedQuery | str, page: int = 1,
                    per_page: int = PER_PAGE) -> SearchResults:  # fmt: skip
    """One page of every section ``user`` may read that contains the query."""
    parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
    results = SearchResults(query=parsed, notices=list(parsed.notices), per_page=per_page)
    scope = scope_for(user)
    if scope is None or not (parsed.terms or parsed.has_filters):
        return results  # filters alone list every readable section they let through
    filters = _filters(parsed, scope)
    if filters is None:
        return results
    results.page = max(1, min(page, MAX_PAGE))
    try:
        outcome = backends.current().search(
            terms=parsed.folded_terms, scope=scope, filters=filters,
            offset=(results.page - 1) * per_page, limit=per_page,
            unreadable=recently_hidden_from(scope),
        )  # fmt: skip
    except SearchTooSlow as exc:
        log.warning("search stopped: %s (query %r)", exc, parsed.text[:100])
        results.notices.append(
            _("这次搜索太慢，已停止。请多输入几个字，或按同事、手册、类型或日期缩小范围。")
        )
        return results
    except IndexUnavailable as exc:
        log.warning("search index unavailable: %s", exc)
        results.unavailable = True
        return results
    results.total = outcome.total
    # The manuals' titles with their owners, and the hits' rows with their ancestors: asked
    # together (one round trip on PostgreSQL).
    manual_rows, hit_rows = answers(
        [_manuals_asked(outcome.by_manual), _hits_asked(scope, outcome.matches)]
    )
    titles, names = _manuals_and_owners(manual_rows, outcome.by_owner)
    results.hits = _hits_for(scope, outcome.matches, hit_rows, parsed.folded_terms, names)
    results.agents = sorted(
        ((pk, names[pk], count) for pk, count in outcome.by_owner.items() if pk in names),
        key=lambda item: (-item[2], item[1]),
    )
    results.manuals = sorted(
        ((pk, titles[pk], count) for pk, count in outcome.by_manual.items() if pk in titles),
        key=lambda item: (-item[2], item[1]),
    )
    return results


_HIT = ("id", "parent_id", "kind", "updated_at", "manual_id", "manual__title",
        "manual__owner_id", "readable")  # fmt: skip
# Ancestors read with the hits, for their paths: (id, its parent, title, level, shown to
# the reader) of the parent, the grandparent and the great-grandparent. Deeper ones are
# asked by readable_paths.
ANCESTORS_WITH_HITS = 3


def _ancestor_columns(depth: int) -> tuple[str, ...]:
    up = "parent__" * depth
    return (f"{up}id", f"{up}parent_id", f"{up}title", f"{up}level", f"shown_{depth}")


def hits_read_by(scope: Scope) -> QuerySet:
    """``sections_read_by(scope)`` with what the reading rule says of each ancestor up to
    ANCESTORS_WITH_HITS levels (``shown_1`` … ): by the ancestor's visibility and the
    manual's owner, team and template flag — an ancestor is in its section's manual (the
    manual joined once more per level made the query twice as slow on PostgreSQL)."""
    hits = sections_read_by(scope)
    for depth in range(1, ANCESTORS_WITH_HITS + 1):
        up = "parent__" * depth
        rule = reading_rule(user_id=scope.user_id, team_id=scope.team_id,
                            is_lead=scope.is_lead, prefix="manual__", section=up)  # fmt: skip
        hits = hits.annotate(
            **{f"shown_{depth}": ExpressionWrapper(rule, output_field=BooleanField())}
        )
    return hits


def _hits_asked(scope: Scope, matches: list[Match]):
    """The question for the matches' rows, re-checked against the database, with their
    ancestors: plain rows, not model instances (a third of the page's time)."""
    columns = _HIT + tuple(c for d in range(1, ANCESTORS_WITH_HITS + 1)
                           for c in _ancestor_columns(d))  # fmt: skip
    return by_id(
        ("hits", scope),
        lambda marks: hits_read_by(scope).filter(pk__in=marks).values_list(*columns),
        [m.section_id for m in matches],
    )


def _hits_for(scope: Scope, matches: list[Match], rows: list[tuple], terms: list[str],
              names: dict[int, str]) -> list[Hit]:  # fmt: skip
    """Turn index matches into hits, re-checked against the database (``rows``: the
    answer to ``_hits_asked``)."""
    known: dict[int, tuple[int | None, str, bool]] = {}
    top: set[int] = set()  # hits whose parent is the manual's hidden root
    for row in rows:
        ancestors = row[len(_HIT) :]
        if ancestors[0] is None or ancestors[3] == 0:
            top.add(row[0])
        for at in range(0, len(ancestors), 5):
            pk, parent, title, level, shown = ancestors[at : at + 5]
            if pk is None or level == 0:
                break  # the hidden root ends the chain
            known[pk] = (parent if level > 1 else None, title, shown)
    rows = [row[: len(_HIT)] for row in rows]
    found = {row[0]: row for row in rows if row[-1]}
    # ``names`` holds the owners of the manuals with hits as the database had them a query
    # ago: a manual handed over in between, its new owner in one more query.
    missing = {row[6] for row in found.values()} - names.keys()
    if missing:
        names = {**names, **_owner_names(missing)}
    paths = readable_paths(scope, [(pk, None if pk in top else row[1])
                                   for pk, row in found.items()], known=known)  # fmt: skip
    labels = {kind: str(label) for kind, label in Section.Kind.choices}  # (in this language)
    hits = []
    for match in matches:
        section = found.get(match.section_id)
        if section is None:  # the index is a moment behind the database
            continue
        pk, _parent, db_kind, updated_at, manual_id, manual_title, owner_id, _ok = section
        kind = KIND_BY_CODE.get(match.kind_code, db_kind)
        title_end, folded = len(match.title), match.folded
        hits.append(
            Hit(
                section_id=pk,
                manual_id=manual_id,
                manual_title=manual_title,
                owner_id=owner_id,
                owner_name=names[owner_id],
                title=match.title,
                path=paths.get(pk, []),
                kind=kind,
                kind_label=labels.get(kind, ""),
                updated_at=updated_at,
                title_hit=bool(match.title_terms),
                # Exact for the hits shown (the index's count ranks, and may skip
                # occurrences inside longer words where a word token proved the hit).
                count=_count(folded, terms) if terms else 0,
                title_parts=highlight_parts(match.title, terms, folded=folded[:title_end]),
                snippet=snippet_parts(match.text, terms, folded=folded[title_end + 1 :]),
            )
        )
    return hits


def _owner_names(counts) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=list(counts))
    rows = users.values_list("pk", *Member.NAME_FIELDS)
    return {pk: Member.name_of(*names) for pk, *names in rows}


def _manuals_asked(manual_ids):
    columns = ("id", "title", "owner_id", *(f"owner__{name}" for name in Member.NAME_FIELDS))
    return by_id(
        ("manuals",),
        lambda marks: Manual.objects.filter(pk__in=marks).order_by().values_list(*columns),
        manual_ids,
    )


def _manuals_and_owners(rows: list[tuple], owner_ids) -> tuple[dict[int, str], dict[int, str]]:
    """The titles of the manuals and the names of their owners (``rows``: the answer to
    ``_manuals_asked``): the owners with hits own the manuals with hits, unless the index
    has yet to see a handover (then one more query names the rest)."""
    titles, names = {}, {}
    for pk, title, owner_id, *name in rows:
        titles[pk] = title
        names[owner_id] = Member.name_of(*name)
    missing = set(owner_ids) - names.keys()
    if missing:
        names.update(_owner_names(missing))
    return titles, names


def readable_paths(scope: Scope, parents_of: list[tuple[int, int | None]],
                   known: dict | None = None) -> dict[int, list[str]]:  # fmt: skip
    """Titles of the ancestors of each (section id, parent id) that the reader ``scope``
    describes may read, top first. ``known``: ancestors already read (id → parent id,
    title, shown), as sections_by_id(scope, …, "shown") gives them.

    Walks up by parent ids, one primary-key query per level that also says which of them
    the user may read: a nested-set range query over the whole team is much slower.
    """
    # id → (parent id, title, readable)
    parents: dict[int, tuple[int | None, str, bool]] = dict(known or {})
    asked: set[int] = set(parents)
    wanted = {parent for _pk, parent in parents_of if parent} - asked
    wanted |= {parent for parent, _title, _ok in parents.values() if parent} - asked
    while wanted:  # the hidden roots (level 0) end each chain
        asked |= wanted
        rows = sections_by_id(scope, ("id", "parent_id", "title", "shown"), wanted)
        parents.update((pk, (parent, title, ok)) for pk, parent, title, ok in rows)
        wanted = {parent for parent, _title, _ok in parents.values() if parent} - asked
    paths = {}
    for pk, parent in parents_of:
        path, at, seen = [], parent, set()
        while at in parents and at not in seen:  # a corrupt tree must not hang a request
            seen.add(at)
            above, title, readable = parents[at]
            if readable:
                path.append(title)
            at = above
        paths[pk] = path[::-1]
    return paths


# --- find in this manual ----------------------------------------------------------------


@dataclass
class ManualFind:
    query: ParsedQuery
    total: int = 0
    sections: list[dict] = field(default_factory=list)  # tree order: id, title, path, count
    unavailable: bool = False
    # The first of ``sections`` at or after the section being read (``reading``), wrapping
    # to 0: the reader's place in the whole manual, whether or not the page has loaded it.
    start: int = 0


def find_in_manual(
    *, user, manual: Manual, query: str | None, reading: int | None = None
) -> ManualFind:
    """Every occurrence of the query in the sections of ``manual`` that ``user`` may read.

    Counts are exact (non-overlapping occurrences in title and text) and listed in the
    manual's order, so the browser can step next/previous across sections.
    """
    parsed = parse_query(query)
    result = ManualFind(query=parsed)
    scope = scope_for(user)
    terms = parsed.folded_terms
    if scope is None or not terms:
        return result
    outline = manual.outline(user=user)
    if not outline:
        return result
    try:
        outcome = backends.current().search(
            terms=terms, scope=scope, filters=Filters(manual_id=manual.pk),
            offset=0, limit=len(outline) + 1,
        )  # fmt: skip
        folded = {m.section_id: m.folded for m in outcome.matches}
    except IndexUnavailable as exc:
        # Bounded by one manual, so the database can answer while the index is rebuilt
        # (or when the engine gave up on a query that is slow across the whole team).
        result.unavailable = not isinstance(exc, SearchTooSlow)
        folded = _manual_texts(manual, user)
    passed_reading = reading is None
    for section, titles_above in walk(outline):
        if section.pk == reading:
            passed_reading = True
            result.start = len(result.sections)
        if section.pk in folded:
            count = _count(folded[section.pk], terms)
            if count:
                result.sections.append({
                    "id": section.pk, "title": section.title, "count": count,
                    "path": [a.title for a in titles_above],
                })  # fmt: skip
                result.total += count
    if not passed_reading or result.start >= len(result.sections):
        result.start = 0
    return result


def _count(folded: str, terms: list[str]) -> int:
    """Non-overlapping occurrences of the ``terms`` in ``folded`` text, 0 unless all occur."""
    counts = [folded.count(term) for term in terms]
    return sum(counts) if all(counts) else 0


def _manual_texts(manual: Manual, user) -> dict[int, str]:
    """The folded "title\ntext" of each readable section of ``manual``, as the index has it."""
    rows = (
        Section.objects.readable_by(user)
        .live()
        .filter(manual=manual, level__gt=0)
        .values_list("id", "title", "body")
    )
    return {pk: fold(title + "\n" + html_to_text(body)) for pk, title, body in rows}
