"""From a section's sanitised HTML to the text people search, and from text to n-grams.

Search is Ctrl+F, not word search: a query is matched as a substring of the folded text.
The index holds every distinct 1- and 2-character gram of the folded text (all scripts
alike, no positions), plus the 3- to 5-character grams inside runs of ASCII letters and
digits (order IDs and English words, whose 2-grams are too common to narrow anything
down), plus whole words of five or more ASCII letters (hyphenated ones too).
The grams find candidates for any query; a query that is not itself a gram is verified
against the stored text, so the answer is exact — except in sections holding the query
as a whole word, which the word token already proves.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

from search.folding import fold

BLOCK_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "pre", "blockquote",
    "table", "tr", "td", "th", "caption", "figure", "figcaption", "div",
}  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# Folded text is lower case, so these are all the ASCII letter/digit runs and words.
_ASCII_RUNS = re.compile(r"[0-9a-z]{3,}")
ASCII_GRAM_SIZES = (3, 4, 5)
_ASCII_GRAM = re.compile(r"[0-9a-z]{3,5}")
_WORDS = re.compile(r"(?<![a-z])[a-z]{5,40}(?![a-z])")
_COMPOUNDS = re.compile(r"(?<![a-z-])[a-z]+(?:-[a-z]+)+(?![a-z-])")
_WORD = re.compile(r"[a-z]{5,40}|(?=.{5,40}$)[a-z]+(?:-[a-z]+)+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of a section body: one line per block, spaces collapsed."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        text = html
    else:
        parser = _TextExtractor()
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def _ascii_grams(folded: str) -> list[str]:
    """The 3- to 5-grams of every run of ASCII letters and digits."""
    grams = []
    for run in _ASCII_RUNS.findall(folded):
        for size in ASCII_GRAM_SIZES:
            grams += [run[i : i + size] for i in range(len(run) - size + 1)]
    return grams


def gram_counts(folded: str) -> Counter:
    """Every gram (and whole ASCII word) of already-folded text with how often it occurs:
    each character and each pair of adjacent characters (overlapping), and the
    ``long_gram_counts``."""
    counts = Counter(folded)
    counts.update(map(str.__add__, folded, folded[1:]))
    counts.update(long_gram_counts(folded))
    return counts


def long_gram_counts(folded: str) -> Counter:
    """The grams of three characters or more: ASCII 3- to 5-grams and whole words (a
    rebuild counts the 1- and 2-grams of many sections at once; see whoosh_store)."""
    counts = Counter(_ascii_grams(folded))
    counts.update(_WORDS.findall(folded))
    counts.update(word for word in _COMPOUNDS.findall(folded) if 5 <= len(word) <= 40)
    return counts


def is_gram(folded_term: str) -> bool:
    """Whether the index holds ``folded_term`` as a gram, so its postings are the answer."""
    return len(folded_term) <= 2 or bool(_ASCII_GRAM.fullmatch(folded_term))


def word_token(folded_term: str) -> str | None:
    """The word token that proves a section contains ``folded_term``, if it has one."""
    return folded_term if _WORD.fullmatch(folded_term) else None


def query_grams(folded_term: str) -> list[str]:
    """The grams a section must hold to contain ``folded_term``."""
    if is_gram(folded_term):
        return [folded_term]
    grams = set()
    covered = set()  # 2-grams inside ASCII runs are implied by the runs' longer grams
    for match in _ASCII_RUNS.finditer(folded_term):
        run = match.group()
        size = min(len(run), ASCII_GRAM_SIZES[-1])
        grams.update(run[i : i + size] for i in range(len(run) - size + 1))
        covered.update(range(match.start(), match.end() - 1))
    grams.update(folded_term[i : i + 2] for i in range(len(folded_term) - 1) if i not in covered)
    return sorted(grams)


def find_all(folded_text: str, folded_term: str) -> list[int]:
    """Start offsets of every (non-overlapping) occurrence."""
    starts, at = [], folded_text.find(folded_term)
    while at != -1:
        starts.append(at)
        at = folded_text.find(folded_term, at + len(folded_term))
    return starts


def highlight_spans(
    text: str, terms: list[str], *, folded: str | None = None
) -> list[tuple[int, int]]:
    """Merged (start, end) spans of every occurrence of the folded ``terms`` in ``text``.

    ``folded``: ``fold(text)`` when the caller has it already (the index keeps it).
    """
    if folded is None or len(folded) != len(text):
        folded = fold(text)
    spans = sorted((s, s + len(t)) for t in terms if t for s in find_all(folded, t))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight_parts(
    text: str, terms: list[str], *, folded: str | None = None
) -> list[tuple[str, bool]]:
    """All of ``text`` as (piece, is_hit) pairs."""
    parts: list[tuple[str, bool]] = []
    cursor = 0
    for start, end in highlight_spans(text, terms, folded=folded):
        if start > cursor:
            parts.append((text[cursor:start], False))
        parts.append((text[start:end], True))
        cursor = end
    if cursor < len(text) or not parts:
        parts.append((text[cursor:], False))
    return parts


def snippet_parts(
    text: str, terms: list[str], *, width: int = 120, max_parts: int = 2,
    folded: str | None = None,
) -> list[tuple[str, bool]]:  # fmt: skip
    """Up to ``max_parts`` windows of ``text`` around hits, as (piece, is_hit) pairs.

    Offsets come from the folded text and apply to the original unchanged because
    folding preserves length. Windows are joined with "…".

    Only the hits up to the last window matter, so a long text is searched in a growing
    prefix: a common character occurs thousands of times in the longest sections, and
    those rank first.
    """
    if folded is None or len(folded) != len(text):
        folded = fold(text)
    longest = max((len(term) for term in terms), default=1)
    limit = max(256, 4 * width * max_parts)
    while True:
        spans = highlight_spans(text[:limit], terms, folded=folded[:limit])
        windows = _windows(spans, len(text), width, max_parts)
        # Exact once every hit a window could hold lies wholly inside the prefix.
        full = windows and len(windows) == max_parts and windows[-1][1] <= limit - longest
        if limit >= len(text) or full:
            break
        limit *= 4
    return _snippet(text, spans, windows, width)


def _snippet(text: str, spans, windows, width: int) -> list[tuple[str, bool]]:
    """The windows' pieces of ``text``, hits marked; the start of the text if no hit."""
    if not spans:
        return [(text[:width] + ("…" if len(text) > width else ""), False)] if text else []
    parts: list[tuple[str, bool]] = []
    for index, (lo, hi) in enumerate(windows):
        if lo > 0 or index:
            parts.append(("…", False))
        cursor = lo
        for start, end in spans:
            if start >= hi:
                break
            if end <= lo:
                continue
            start, end = max(start, lo), min(end, hi)
            if start > cursor:
                parts.append((text[cursor:start], False))
            parts.append((text[start:end], True))
            cursor = end
        if cursor < hi:
            parts.append((text[cursor:hi], False))
    if windows[-1][1] < len(text):
        parts.append(("…", False))
    return [(piece.replace("\n", " "), hit) for piece, hit in parts]


def _windows(spans, length: int, width: int, max_parts: int) -> list[tuple[int, int]]:
    """The snippet's windows: around the first hits, each at least ``width`` long."""
    windows: list[tuple[int, int]] = []
    for start, end in spans:
        if windows and start < windows[-1][1]:
            continue
        if len(windows) == max_parts:
            break
        lo = max(0, start - width // 3, windows[-1][1] if windows else 0)
        windows.append((lo, min(length, max(end, lo + width))))
    return windows
