"""Side-by-side differences between two revisions of a section."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from html import unescape

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_BLOCK_END = re.compile(
    r"</(p|h[1-6]|li|tr|blockquote|pre|figcaption|div|table)>|<br\s*/?>|<hr\s*/?>", re.I
)
_CELL_END = re.compile(r"</t[dh]>", re.I)
_IMG = re.compile(r"<img\b[^>]*?src=\"([^\"]*)\"[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")


def html_to_lines(html: str) -> list[str]:
    """Readable text lines of a body: one per block, images as [图片 …]."""
    text = _IMG.sub(lambda m: f"\n[图片 {m.group(1)}]\n", html or "")
    text = _CELL_END.sub(" | ", text)
    text = _BLOCK_END.sub("\n", text)
    text = unescape(_TAG.sub("", text))
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass
class DiffRow:
    kind: str  # equal | insert | delete | replace
    left: SafeString
    right: SafeString


def _inline(a: str, b: str) -> tuple[SafeString, SafeString]:
    """Character-level marks inside a changed line (Chinese has no spaces to split on)."""
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(escape(a[i1:i2]))
            right.append(escape(b[j1:j2]))
            continue
        if i2 > i1:
            left.append(f"<del>{escape(a[i1:i2])}</del>")
        if j2 > j1:
            right.append(f"<ins>{escape(b[j1:j2])}</ins>")
    return mark_safe("".join(left)), mark_safe("".join(right))


def diff_rows(old: list[str], new: list[str]) -> list[DiffRow]:
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows += [DiffRow("equal", escape(line), escape(line)) for line in old[i1:i2]]
        elif op == "delete":
            rows += [DiffRow("delete", escape(line), mark_safe("")) for line in old[i1:i2]]
        elif op == "insert":
            rows += [DiffRow("insert", mark_safe(""), escape(line)) for line in new[j1:j2]]
        else:
            left, right = old[i1:i2], new[j1:j2]
            for k in range(max(len(left), len(right))):
                a = left[k] if k < len(left) else ""
                b = right[k] if k < len(right) else ""
                rows.append(DiffRow("replace", *_inline(a, b)))
    return rows


def diff_sections(old_title: str, old_body: str, new_title: str, new_body: str) -> list[DiffRow]:
    return diff_rows([f"# {old_title}", *html_to_lines(old_body)],
                     [f"# {new_title}", *html_to_lines(new_body)])  # fmt: skip
