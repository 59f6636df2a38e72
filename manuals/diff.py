"""Side-by-side differences between two revisions of a section."""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# difflib is quadratic: two 20,000-character one-line revisions once took 21.5 s per page.
# Character marks inside a changed line only while the changed middles are this small
# (their product), whole-line marks beyond; line matching only while the line lists are
# this small, and beyond "too large to compare".
# Worst cases (repetitive text) measured: 500 × 500 characters 0.1 s, 1,000 × 1,000 lines
# 0.6 s of CPU.
MAX_INLINE_PAIRS = 250_000  # per changed line
MAX_INLINE_TOTAL = 1_000_000  # over the whole diff
MAX_LINE_PAIRS = 1_000_000
MAX_COMPARED_CHARS = 4_000_000

_BLOCK_END = re.compile(
    r"</(p|h[1-6]|li|tr|blockquote|pre|figcaption|div|table)>|<br\s*/?>|<hr\s*/?>", re.I
)
_CELL_END = re.compile(r"</t[dh]>", re.I)
_IMG = re.compile(r"<img\b[^>]*?src=\"([^\"]*)\"[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")


_CELL = re.compile(r"(<t[dh]\b[^>]*>)(.*?)(</t[dh]>)", re.I | re.S)
_SPACES = re.compile(r"\s+")


def _flat_cell(match: re.Match) -> str:
    # The editor wraps every cell's text in <p> (and may add colwidth, colspan="1"):
    # a cell is one piece of text whatever blocks it was saved with, so a table saved once
    # through the editor compares equal to the table it was.
    inner = _TAG.sub(" ", _BLOCK_END.sub(" ", match.group(2)))
    return match.group(1) + _SPACES.sub(" ", inner).strip() + match.group(3)


def html_to_lines(html: str) -> list[str]:
    """Readable text lines of a body: one per block, images as [图片 …]."""
    text = _IMG.sub(lambda m: f"\n[图片 {m.group(1)}]\n", html or "")
    text = _CELL.sub(_flat_cell, text)
    text = _CELL_END.sub(" | ", text)
    text = _BLOCK_END.sub("\n", text)
    text = unescape(_TAG.sub("", text))
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass
class DiffRow:
    kind: str  # equal | insert | delete | replace
    left: SafeString
    right: SafeString


def _inline(a: str, b: str, budget: list[int]) -> tuple[SafeString, SafeString]:
    """Character-level marks inside a changed line (Chinese has no spaces to split on)."""
    # The common head and tail cost nothing to find and are most of a typical edit.
    head = len(_common_prefix(a, b))
    tail = len(_common_prefix(a[head:][::-1], b[head:][::-1]))
    a_mid, b_mid = a[head : len(a) - tail], b[head : len(b) - tail]
    left: list[str] = [escape(a[:head])]
    right: list[str] = [escape(b[:head])]
    pairs = len(a_mid) * len(b_mid)
    if pairs <= MAX_INLINE_PAIRS and pairs <= budget[0]:
        budget[0] -= pairs
        opcodes = difflib.SequenceMatcher(None, a_mid, b_mid, autojunk=False).get_opcodes()
    else:
        opcodes = [("replace", 0, len(a_mid), 0, len(b_mid))]
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            left.append(escape(a_mid[i1:i2]))
            right.append(escape(b_mid[j1:j2]))
            continue
        if i2 > i1:
            left.append(f"<del>{escape(a_mid[i1:i2])}</del>")
        if j2 > j1:
            right.append(f"<ins>{escape(b_mid[j1:j2])}</ins>")
    left.append(escape(a[len(a) - tail :]) if tail else "")
    right.append(escape(b[len(b) - tail :]) if tail else "")
    return mark_safe("".join(left)), mark_safe("".join(right))


def _common_prefix(a: str, b: str) -> str:
    return os.path.commonprefix([a, b])


def diff_rows(old: list[str], new: list[str]) -> list[DiffRow]:
    chars = sum(map(len, old)) + sum(map(len, new))
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_mid, new_mid = old[head : len(old) - tail], new[head : len(new) - tail]
    if len(old_mid) * len(new_mid) > MAX_LINE_PAIRS or chars > MAX_COMPARED_CHARS:
        note = _("两个版本太长，无法逐行比较（共 %(n)d 字）。可以分别打开两个版本查看。")
        return [DiffRow("too-large", escape(note % {"n": chars}), mark_safe(""))]
    rows = [DiffRow("equal", escape(line), escape(line)) for line in old[:head]]
    budget = [MAX_INLINE_TOTAL]
    matcher = difflib.SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [DiffRow("equal", escape(line), escape(line)) for line in old_mid[i1:i2]]
        elif op == "delete":
            rows += [DiffRow("delete", escape(line), mark_safe("")) for line in old_mid[i1:i2]]
        elif op == "insert":
            rows += [DiffRow("insert", mark_safe(""), escape(line)) for line in new_mid[j1:j2]]
        else:
            left, right = old_mid[i1:i2], new_mid[j1:j2]
            for k in range(max(len(left), len(right))):
                a = left[k] if k < len(left) else ""
                b = right[k] if k < len(right) else ""
                rows.append(DiffRow("replace", *_inline(a, b, budget)))
    rows += [DiffRow("equal", escape(line), escape(line)) for line in old[len(old) - tail :]]
    return rows


def diff_sections(old_title: str, old_body: str, new_title: str, new_body: str) -> list[DiffRow]:
    return diff_rows([f"# {old_title}", *html_to_lines(old_body)],
                     [f"# {new_title}", *html_to_lines(new_body)])  # fmt: skip


_VOID = {"br", "hr", "img", "col", "wbr", "input", "source"}


class _TopBlocks(HTMLParser):
    """Offsets of the top-level blocks of a sanitised body."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=False)
        self.line_starts = [0]
        for line in html.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.depth, self.start, self.spans = 0, 0, []
        self.feed(html)
        self.close()

    def _at(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        if self.depth == 0:
            self.start = self._at()
        if tag in _VOID:
            if self.depth == 0:
                self.spans.append((self.start, self._at() + len(self.get_starttag_text())))
            return
        self.depth += 1

    def handle_endtag(self, tag):
        if tag in _VOID or self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0:
            end = self._at()
            self.spans.append((self.start, end + len(f"</{tag}>")))


def top_blocks(html: str) -> list[str]:
    """The top-level blocks of a body (paragraphs, headings, lists, tables, figures)."""
    html = html or ""
    spans = _TopBlocks(html).spans
    return [html[a:b] for a, b in spans] or ([html] if html.strip() else [])


def merge_bodies(mine: str, theirs: str) -> str:
    """Mine with every block of theirs that mine lacks, each placed after the block of
    theirs it follows (a template update "both": no unchanged paragraph twice)."""

    def key(block: str) -> str:
        return " ".join(html_to_lines(block)) or block

    result = top_blocks(mine)
    keys = [key(b) for b in result]
    theirs_blocks = top_blocks(theirs)
    shared = set(keys) & {key(b) for b in theirs_blocks}
    anchor = 0 if shared else len(result)
    for block in theirs_blocks:
        k = key(block)
        if k in keys[anchor:]:
            anchor = keys.index(k, anchor) + 1
        elif k in keys:
            continue  # the agent moved it up: it is there already
        else:
            result.insert(anchor, block)
            keys.insert(anchor, k)
            anchor += 1
    return "".join(result)
