"""Comparisons tell the truth: a table saved once through the editor (cells wrapped in <p>,
colgroup, colspan="1") compares equal to the table it was."""

from manuals.diff import diff_sections
from manuals.sanitize import sanitize_html

IMPORTED = (
    "<p>退款规则</p><table><tr><th>项目</th><th>说明</th></tr>"
    "<tr><td>退款</td><td>三天内到账<br>节假日顺延</td></tr></table>"
)
# What the WYSIWYG editor sends back for the same table, untouched.
FROM_EDITOR = (
    '<p>退款规则</p><table style="min-width: 50px"><colgroup><col style="min-width: 25px">'
    '<col style="min-width: 25px"></colgroup><tbody><tr><th colspan="1" rowspan="1"><p>项目</p>'
    '</th><th colspan="1" rowspan="1"><p>说明</p></th></tr><tr><td colspan="1" rowspan="1">'
    '<p>退款</p></td><td colspan="1" rowspan="1"><p>三天内到账</p><p>节假日顺延</p></td></tr>'
    "</tbody></table>"
)


def test_a_table_saved_once_through_the_editor_is_not_shown_as_replaced():
    rows = diff_sections("退款", sanitize_html(IMPORTED), "退款", sanitize_html(FROM_EDITOR))
    assert {r.kind for r in rows} == {"equal"}


def test_a_changed_cell_is_still_a_change_within_its_row():
    edited = FROM_EDITOR.replace("三天内到账", "五天内到账")
    rows = diff_sections("退款", sanitize_html(IMPORTED), "退款", sanitize_html(edited))
    changed = [r for r in rows if r.kind != "equal"]
    assert len(changed) == 1 and "退款" in changed[0].left and "<ins>五</ins>" in changed[0].right
