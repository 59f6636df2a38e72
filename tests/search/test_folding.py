from pathlib import Path

import pytest

from search.analysis import highlight_parts, html_to_text, snippet_parts
from search.folding import TABLE_PATH, chinese_pairs_from_opencc, fold, fold_map


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("質檢", "质检"), ("ＴＢ２０２３", "tb2023"), ("著作", "着作"), ("裡面", "里面"),
     ("臺灣", "台湾"), ("ABC", "abc"), ("乾淨", "干净"), ("衆人", "众人")],
)  # fmt: skip
def test_variants_fold_to_one_form(typed, stored):
    assert fold(typed) == fold(stored)


def test_folding_preserves_length_in_python_and_utf16():
    for src, dst in fold_map().items():
        assert (src > 0xFFFF) == (dst > 0xFFFF), (chr(src), chr(dst))
    text = "İstanbul ß ﬁ Σ 質檢𠀀ＴＢ"
    assert len(fold(text)) == len(text)


def test_shipped_table_matches_opencc():
    opencc = pytest.importorskip("opencc")
    pairs = chinese_pairs_from_opencc(Path(opencc.__file__).parent / "dictionary")
    shipped = dict(
        line.split("\t")
        for line in TABLE_PATH.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert shipped == pairs


def test_html_to_text_keeps_blocks_apart():
    assert html_to_text("<p>客户</p><p>情绪 &amp;  <b>处</b>理</p>") == "客户\n情绪 & 处理"


def test_snippet_highlights_the_original_characters():
    parts = snippet_parts("訂單ＴＢ２０２３已發貨", ["tb2023", "发货"])
    assert [p for p, hit in parts if hit] == ["ＴＢ２０２３", "發貨"]


def test_snippet_windows_never_repeat_text():
    text = "甲" * 100 + "退款" + "乙" * 30 + "退款" + "丙" * 200
    joined = "".join(piece for piece, _hit in snippet_parts(text, ["退款"], width=60))
    assert joined.count("退款") == 2
    assert len(joined.replace("…", "")) <= len(text)


def test_title_highlight_keeps_the_whole_title():
    parts = highlight_parts("复盘示例：物流延误的退款纠纷", ["退款"])
    assert "".join(p for p, _ in parts) == "复盘示例：物流延误的退款纠纷"
    assert [p for p, hit in parts if hit] == ["退款"]
