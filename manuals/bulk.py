"""Insert a whole outline into a manual's tree in a few queries (imports, template clones).

django-mptt inserts one node at a time, re-numbering the tree for every row: fine for an
editor, far too slow for a 3,000-heading document. Here the nested-set numbers of the new
rows are computed in Python, the rows after the insertion point are shifted with two
UPDATEs, and the new rows are written with ``bulk_create``, one query batch per depth so
that every child knows its parent's id. Like every tree write it runs inside
``transaction.atomic()`` after locking the manual row, and leaves ``check_trees`` clean.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from manuals.models import Manual, Revision, Section
from manuals.sanitize import SanitizedHTMLField, sanitize_html
from manuals.tree import (
    MAX_DEPTH,
    TreeError,
    check_body,
    check_choices,
    clean_title,
    create_manual,
    fresh_section,
    lock_manual,
    notify_changed,
    own_pictures_only,
)


@dataclass
class NewSection:
    """One section to insert; ``depth`` 1 hangs directly under the insertion parent.

    A list of these in document (pre-)order describes a whole subtree: each item's depth is
    at most one more than the item before it.
    """

    depth: int
    title: str
    body: str = ""
    kind: str = Section.Kind.NOTE
    visibility: str = Section.Visibility.PRIVATE
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by_id: int | None = None
    trashed_at: datetime | None = None
    trashed_root: bool = False
    origin_id: int | None = None
    origin_note: str = ""
    copied_at: datetime | None = None
    template_section_id: int | None = None
    template_version: int | None = None
    synced_version: int | None = None


def check_depths(sections: Sequence[NewSection], *, base_level: int) -> None:
    """Refuse an outline that does not describe a tree or would be too deep."""
    previous = 0
    for item in sections:
        if item.depth < 1 or item.depth > previous + 1:
            raise TreeError(
                _("大纲层级不连续：“%(title)s”是第 %(depth)d 级，但前面没有第 %(parent)d 级。")
                % {"title": item.title, "depth": item.depth, "parent": item.depth - 1}
            )
        if base_level + item.depth > MAX_DEPTH:
            raise TreeError(_("层级太深：手册最多 %(max)d 级标题。") % {"max": MAX_DEPTH})
        previous = item.depth


def _number(sections: Sequence[NewSection], start: int) -> list[tuple[int, int, int | None]]:
    """(lft, rght, index of parent or None) for each item, numbering from ``start``."""
    numbers: list[list] = [[0, 0, None] for _ in sections]
    stack: list[int] = []
    counter = start
    for index, item in enumerate(sections):
        while len(stack) >= item.depth:
            numbers[stack.pop()][1] = counter
            counter += 1
        numbers[index][0] = counter
        numbers[index][2] = stack[-1] if stack else None
        counter += 1
        stack.append(index)
    while stack:
        numbers[stack.pop()][1] = counter
        counter += 1
    return [tuple(n) for n in numbers]


def insert_sections(
    *,
    manual: Manual,
    parent: Section | None,
    sections: Sequence[NewSection],
    user=None,
    revision_note: str | None = None,
) -> list[Section]:
    """Append ``sections`` (pre-order, see NewSection) as the last children of ``parent``.

    ``parent`` None means the manual's root, i.e. new chapters at the end. Returns the saved
    sections in the same order, with ids. Unless ``revision_note`` is None each new section
    gets its first revision with that note. Callers send ``sections_changed`` themselves
    (one import = one signal) and check the user's right to write.
    """
    if not sections:
        return []
    with transaction.atomic():
        manual = lock_manual(manual.pk)
        parent = fresh_section(parent.pk if parent is not None else manual.root_id)
        if parent.manual_id != manual.pk:
            raise TreeError(_("目标章节不在这本手册里。"))
        if parent.trashed_at is not None:
            raise TreeError(_("回收站里的章节下面不能添加章节。"))
        check_depths(sections, base_level=parent.level)
        titles = [clean_title(item.title) for item in sections]
        for item in sections:
            check_choices(item.kind, item.visibility)
        bodies = own_pictures_only(manual.pk, [item.body for item in sections])
        for item, title in zip(sections, titles, strict=True):
            check_body(item.body, title=title)

        width = 2 * len(sections)
        start = parent.rght
        tree = Section.objects.filter(tree_id=parent.tree_id)
        # rght first, so that every row keeps rght > lft between the two statements.
        tree.filter(rght__gte=start).update(rght=F("rght") + width)
        tree.filter(lft__gt=start).update(lft=F("lft") + width)

        numbers = _number(sections, start)
        now = timezone.now()
        rows: list[Section] = []
        rows_in = zip(sections, titles, bodies, numbers, strict=True)
        for item, title, body, (lft, rght, _parent_index) in rows_in:
            rows.append(
                Section(
                    manual_id=manual.pk,
                    tree_id=parent.tree_id,
                    level=parent.level + item.depth,
                    lft=lft,
                    rght=rght,
                    title=title,
                    body=body,
                    kind=item.kind,
                    visibility=item.visibility,
                    version=item.version,
                    created_at=item.created_at or now,
                    updated_at=item.updated_at or item.created_at or now,
                    updated_by_id=item.updated_by_id
                    if item.updated_by_id is not None
                    else getattr(user, "pk", None),
                    trashed_at=item.trashed_at,
                    trashed_root=item.trashed_root,
                    origin_id=item.origin_id,
                    origin_note=item.origin_note,
                    copied_at=item.copied_at,
                    template_section_id=item.template_section_id,
                    template_version=item.template_version,
                    synced_version=item.synced_version,
                )
            )
        cleaned: dict[str, str] = {}  # body -> sanitised body, shared by sections and revisions
        # One batch per depth: parents get their ids before their children are written.
        deepest = max(item.depth for item in sections)
        for depth in range(1, deepest + 1):
            batch = []
            for index, item in enumerate(sections):
                if item.depth != depth:
                    continue
                parent_index = numbers[index][2]
                rows[index].parent_id = parent.pk if parent_index is None else rows[parent_index].pk
                batch.append(rows[index])
            _insert_objects(Section, batch, cleaned=cleaned)

        if revision_note is not None:
            author_id = getattr(user, "pk", None)
            _insert_values(
                Revision,
                ["section_id", "version", "title", "kind", "visibility", "body", "author_id",
                 "note", "created_at"],
                [
                    (row.pk, row.version, row.title, row.kind, row.visibility, row.body,
                     author_id, revision_note, row.updated_at)
                    for row in rows
                ],
                cleaned=cleaned,
            )  # fmt: skip
        Manual.objects.filter(pk=manual.pk).update(updated_at=now)
    return rows


def _preparer(field: models.Field, cleaned: dict):
    """How one column's Python value becomes a query parameter, decided once per column
    (Django's per-value ``get_db_prep_save`` dominates a 2,000-row insert). Bodies are
    sanitised here like SanitizedHTMLField does on save, remembered per call so that a
    revision with its section's body costs nothing more."""
    if isinstance(field, SanitizedHTMLField):

        def prepare_body(value):
            if not isinstance(value, str):
                return value
            if value not in cleaned:
                cleaned[value] = sanitize_html(value)
            return cleaned[value]

        return prepare_body
    if isinstance(field, models.DateTimeField):
        adapt = connection.ops.adapt_datetimefield_value
        cache: dict = {}

        def prepare_datetime(value):
            if value is None:
                return None
            if value not in cache:
                cache[value] = adapt(value)
            return cache[value]

        return prepare_datetime
    if isinstance(field, models.DateField | models.TimeField | models.DecimalField
                  | models.JSONField | models.UUIDField | models.BinaryField):  # fmt: skip
        return lambda value: field.get_db_prep_save(value, connection)
    return None  # ints, strings, booleans, foreign key ids: passed as they are


def _max_query_params() -> int:
    """Parameters one statement may carry: SQLite's real compiled-in limit (Django assumes
    the 999 of very old builds), PostgreSQL's 65,535."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


def _insert_values(
    model: type[models.Model], attnames: list[str], rows: list[tuple], *, cleaned: dict
) -> list:
    """INSERT ``rows`` (values in ``attnames`` order) in multi-row statements; returns the
    new primary keys in order.

    What ``bulk_create`` does, without building model instances or compiling every value:
    a 2,000-section clone spent most of its time there. Needs INSERT … RETURNING
    (PostgreSQL, SQLite 3.35+), which the supported databases have.
    """
    if not rows:
        return []
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[name] for name in attnames]
    preparers = [_preparer(f, cleaned) for f in fields]
    active = [(i, prepare) for i, prepare in enumerate(preparers) if prepare is not None]
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(meta.db_table)} ("
        + ", ".join(quote(f.column) for f in fields)
        + ") VALUES "
    )
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, min(1000, _max_query_params() // len(fields)))
    ids: list = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list = []
            for row in chunk:
                if active:
                    row = list(row)
                    for i, prepare in active:
                        row[i] = prepare(row[i])
                params.extend(row)
            sql = head + ", ".join([row_sql] * len(chunk)) + f" RETURNING {quote(meta.pk.column)}"
            cursor.execute(sql, params)
            ids.extend(r[0] for r in cursor.fetchall())
    return ids


def _insert_objects(model: type[models.Model], objs: list[models.Model], *, cleaned: dict) -> None:
    """INSERT unsaved model instances (see _insert_values) and set their primary keys."""
    attnames = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    values = [tuple(getattr(o, a) for a in attnames) for o in objs]
    ids = _insert_values(model, attnames, values, cleaned=cleaned)
    for obj, new_id in zip(objs, ids, strict=True):
        obj.pk = new_id
        obj._state.adding = False
        obj._state.db = connection.alias


# A manual's usual top-level chapters: a blank manual and a blank team template start with
# these, in the language of the person who creates it.
STANDARD_CHAPTERS = [
    (_lazy("管理制度"), Section.Kind.RULE),
    (_lazy("工作复盘"), Section.Kind.RETROSPECTIVE),
    (_lazy("项目资料"), Section.Kind.PROJECT),
    (_lazy("学习工具"), Section.Kind.TOOL),
]


def standard_chapters(*, visibility: str = Section.Visibility.PRIVATE) -> list[NewSection]:
    return [
        NewSection(depth=1, title=str(title), kind=kind, visibility=visibility)
        for title, kind in STANDARD_CHAPTERS
    ]


def create_blank_manual(
    *,
    owner,
    title: str,
    is_template: bool = False,
    visibility: str = Section.Visibility.PRIVATE,
) -> Manual:
    """A new manual with the four standard chapters, in one transaction."""
    with transaction.atomic():
        manual = create_manual(owner=owner, title=title, is_template=is_template)
        insert_sections(
            manual=manual,
            parent=None,
            sections=standard_chapters(visibility=visibility),
            user=owner,
            revision_note=_("新建"),
        )
        notify_changed(manual.pk, None)
    return manual
