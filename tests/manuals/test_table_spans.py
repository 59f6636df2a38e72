"""Table spans are numbers within reason everywhere: the editor, Word import and Word export.

A cell with colspan=300 once held the export request for 34 s, and colspan="2x" made the
export of the whole manual fail for everyone.
"""

import io
import time

import docx
from django.db import connection
from docx.oxml import parse_xml

from manuals.documents.docx_export import export_docx
from manuals.documents.importing import read_document
from manuals.sanitize import MAX_COLSPAN, sanitize_html
from manuals.tree import SectionContent, add_section
from tests.manuals.documents import python_docx


def test_the_sanitiser_drops_non_numeric_spans_and_clamps_huge_ones():
    html = (
        '<table><tr><td colspan="2x">a</td><td colspan="300" rowspan="-4">b</td>'
        '<td rowspan="3">c</td><th colspan=" 2 ">d</th></tr></table>'
    )
    clean = sanitize_html(html)
    assert 'colspan="2x"' not in clean and "-4" not in clean
    assert f'colspan="{MAX_COLSPAN}"' in clean and 'colspan="300"' not in clean
    assert 'rowspan="3"' in clean and 'colspan="2"' in clean


def _stored_raw(section_id: int, body: str) -> None:
    # A body written before spans were clamped: straight into the table, past the sanitiser.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE manuals_section SET body = %s WHERE id = %s", [body, section_id])


def test_an_old_body_with_hostile_spans_still_exports_quickly(alice, alice_manual):
    content = SectionContent(title="表格", body="<p>x</p>")
    section = add_section(manual=alice_manual, content=content)
    _stored_raw(
        section.pk,
        '<table><tr><td colspan="300" rowspan="900">宽</td></tr>'
        '<tr><td colspan="2x">坏</td><td>好</td></tr></table>',
    )
    started = time.monotonic()
    data = export_docx(manual=alice_manual, user=alice)
    assert time.monotonic() - started < 10
    table = docx.Document(io.BytesIO(data)).tables[0]
    # The first cell spans both rows (900 is clipped to the rows there are), 63 columns.
    assert len(table.columns) == MAX_COLSPAN + 2 and len(table.rows) == 2
    texts = {cell.text for row in table.rows for cell in row.cells}
    assert {"宽", "坏", "好"} <= texts


def test_a_word_file_with_an_absurd_grid_span_imports_with_a_sane_colspan(alice, tmp_path):
    def build(document):
        document.add_heading("表格", 1)
        table = document.add_table(rows=1, cols=2)
        table.cell(0, 0).text = "宽"
        table.cell(0, 1).text = "坏"
        ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        table.cell(0, 0)._tc.get_or_add_tcPr().append(parse_xml(f'<w:gridSpan {ns} w:val="5000"/>'))
        table.cell(0, 1)._tc.get_or_add_tcPr().append(parse_xml(f'<w:gridSpan {ns} w:val="2x"/>'))

    parsed = read_document(python_docx(tmp_path, build))
    body = parsed.sections[0].body
    assert f'colspan="{MAX_COLSPAN}"' in body and "5000" not in body
    assert "坏" in body
