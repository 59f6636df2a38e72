"""The diff behind history, template updates and edit conflicts has a bounded cost.

difflib is quadratic: two revisions of a 20,000-character one-line body once took 21.5 s of
CPU per history page. Past a size the diff marks whole lines, and past a larger one it says
the versions are too large to compare.
"""

import random
import time

from django.urls import reverse

from manuals.diff import diff_rows, diff_sections
from tests.conftest import section_titled

CHARS = "的一是不了人我在有他这中大来上们为和国地到以说时要就出也得里后自子会退款客户"


def one_line(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(CHARS) for _ in range(length))


def test_history_of_a_long_one_line_body_is_quick(client, alice, alice_manual):
    client.force_login(alice)
    section = section_titled(alice_manual, "质检标准")
    # Repetitive text is difflib's worst case (a rule restated, a script pasted twice).
    old = ("首问负责制，四十八小时回访。" * 1500)[:20_000]
    # Changed at both ends and in the middle: no common head or tail to skip.
    new = "改" + old[1:10_000] + "新增" + old[10_000:-1] + "尾"
    edit = reverse("manuals:edit_section", args=[alice_manual.pk, section.pk])
    for version, text in [(1, old), (2, new)]:
        client.post(edit, {"title": "质检标准", "kind": "rule", "visibility": "private",
                           "body": f"<p>{text}</p>", "version": version})  # fmt: skip
    history = reverse("manuals:history", args=[alice_manual.pk, section.pk])
    started = time.process_time()
    page = client.get(history + "?a=2&b=3")
    assert time.process_time() - started < 2
    assert page.status_code == 200
    assert "新增" in page.content.decode()


def test_a_small_change_in_a_long_line_is_still_marked_by_character():
    old = one_line(20_000, 2)
    new = old[:12_345] + "48小时回访" + old[12_345:]
    rows = diff_sections("标题", f"<p>{old}</p>", "标题", f"<p>{new}</p>")
    assert [row.kind for row in rows] == ["equal", "replace"]
    assert "<ins>48小时回访</ins>" in rows[1].right


def test_many_repetitive_lines_fall_back_then_say_too_large():
    old = [f"第{i % 7}行" for i in range(3_000)]
    new = [line if i % 3 else "改" for i, line in enumerate(old)]
    started = time.process_time()
    rows = diff_rows(old, new)
    assert time.process_time() - started < 2
    assert [row.kind for row in rows] == ["too-large"]
    assert "太长" in rows[0].left


def test_many_changed_lines_are_marked_whole_once_the_budget_is_spent():
    old = [one_line(600, seed) for seed in range(40)]
    new = [line[::-1] for line in old]
    started = time.process_time()
    rows = diff_rows(old, new)
    assert time.process_time() - started < 3
    assert len(rows) == 40 and all(row.kind == "replace" for row in rows)
