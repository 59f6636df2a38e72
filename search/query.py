"""What the user typed → terms and filters. No input is an error.

Words separated by spaces must all occur; a "quoted string" is one piece (spaces
included). ``agent:``, ``manual:``, ``kind:`` and ``since:`` (with their Chinese names)
are filters only when the value is valid; everything else — ``*?:()"``, AND/OR/NOT,
HTML — is plain text to find.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from manuals.models import Section
from search.folding import fold

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
_TOKEN = re.compile(r'"([^"]+)"|(\S+)')
FILTER_NAMES = {
    "agent": "agent", "作者": "agent", "客服": "agent",
    "manual": "manual", "手册": "manual",
    "kind": "kind", "类型": "kind",
    "since": "since", "更新于": "since",
}  # fmt: skip


@dataclass
class ParsedQuery:
    text: str  # the cleaned query, as shown back in the search box
    terms: list[str] = field(default_factory=list)  # as typed (for display)
    agent: str | None = None  # username
    manual_id: int | None = None
    kind: str | None = None
    since: datetime.date | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def folded_terms(self) -> list[str]:
        return list(dict.fromkeys(fold(term) for term in self.terms))

    @property
    def has_filters(self) -> bool:
        return any(v is not None for v in (self.agent, self.manual_id, self.kind, self.since))


def clean_query_text(raw: str | None) -> tuple[str, list[str]]:
    """Drop lone surrogates and control characters, collapse spaces, cap the length."""
    notices: list[str] = []
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in (raw or "")
        if not 0xD800 <= ord(ch) <= 0xDFFF
    )
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_LENGTH:
        text = text[:MAX_QUERY_LENGTH].rstrip()
        notices.append(_("搜索内容太长，只用了前 %(n)d 个字符。") % {"n": MAX_QUERY_LENGTH})
    return text, notices


def parse_kind(value: str) -> str | None:
    value = value.strip().lower()
    for kind, label in Section.Kind.choices:
        if value in (kind, str(label).lower()):
            return kind
    return None


def parse_since(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _as_filter(parsed: ParsedQuery, token: str) -> bool:
    name, sep, value = token.partition(":")
    if not sep:
        name, sep, value = token.partition("：")  # full-width colon
    kind = FILTER_NAMES.get(name.lower())
    if not sep or kind is None or not value:
        return False
    if kind == "agent":
        parsed.agent = value
    elif kind == "manual" and value.isascii() and value.isdigit() and len(value) < 12:
        parsed.manual_id = int(value)
    elif kind == "kind" and parse_kind(value):
        parsed.kind = parse_kind(value)
    elif kind == "since" and parse_since(value):
        parsed.since = parse_since(value)
    else:
        return False
    return True


def parse_query(raw: str | None) -> ParsedQuery:
    text, notices = clean_query_text(raw)
    parsed = ParsedQuery(text=text, notices=notices)
    for quoted, word in _TOKEN.findall(text):
        if quoted:
            piece = quoted.strip()
            if piece:
                parsed.terms.append(piece)
        elif not _as_filter(parsed, word):
            parsed.terms.append(word)
    parsed.terms = list(dict.fromkeys(parsed.terms))
    if len(parsed.terms) > MAX_TERMS:
        parsed.terms = parsed.terms[:MAX_TERMS]
        parsed.notices.append(_("最多同时搜索 %(n)d 个词，其余的已忽略。") % {"n": MAX_TERMS})
    return parsed
