"""Snippets of long texts: searched in a growing prefix, the same as over the whole text."""

import random

from search.analysis import _snippet, _windows, highlight_spans, snippet_parts
from search.folding import fold


def whole_text_snippet(text, terms, *, width=120, max_parts=2):
    """The snippet as it was made before prefixes: every hit of the whole text first."""
    spans = highlight_spans(text, terms)
    return _snippet(text, spans, _windows(spans, len(text), width, max_parts), width)


def test_snippets_of_long_texts_match_the_whole_text_reading():
    rng = random.Random(5)
    alphabet = "的退款客户訂單发货ＴＢab12\n "
    for case in range(400):
        length = rng.choice((0, 5, 200, 900, 1000, 3000, 20000))
        text = "".join(rng.choice(alphabet) for _ in range(length))
        if case % 3 == 0 and length > 100:  # one hit far away, near a prefix's edge
            text = text.replace("退", "了").replace("款", "了")
            at = rng.choice((959, 960, 961, 3839, 3841, length - 2))
            text = text[:at] + "退款" + text[at + 2 :]
        terms = rng.choice((["的"], ["退款"], ["退款", "客户"], ["订单发货"], ["tb12"], ["的的"]))
        terms = [fold(t) for t in terms]
        for width, max_parts in ((120, 2), (60, 3), (30, 1)):
            want = whole_text_snippet(text, terms, width=width, max_parts=max_parts)
            got = snippet_parts(text, terms, width=width, max_parts=max_parts)
            assert got == want, (case, length, terms, width)
            assert snippet_parts(text, terms, width=width, max_parts=max_parts,
                                 folded=fold(text)) == want  # fmt: skip


def test_degenerate_snippet_sizes_end():
    assert snippet_parts("退款" * 400, ["退款"], width=0)
    assert snippet_parts("无关" * 400, ["退款"], width=0, max_parts=0) == [("…", False)]


def test_a_hit_across_the_prefix_edge_is_marked():
    """The second window ends where the first prefix does, and a hit starts just inside
    it: the prefix must grow before the snippet is cut."""
    text = "退款" + "了" * 878 + "退款" + "了" * 77 + "退款" + "了" * 2000
    assert text.index("退款", 900) == 959  # across 960, the first prefix's end
    got = snippet_parts(text, ["退款"])
    assert got == whole_text_snippet(text, ["退款"])
    assert got[-2] == ("退", True)
