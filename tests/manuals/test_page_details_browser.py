"""Small things a Word user trips over, checked in Debian's Chromium: the find box's
placeholder is readable whole, and the editor's block-type picker shows no missing-glyph
box (its arrow needs no font)."""

import pytest

from tests.conftest import log_in, section_titled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLACEHOLDER_FITS = """input => {
  const style = getComputedStyle(input);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = style.font;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [ctx.measureText(input.placeholder).width, room];
}"""


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_the_find_box_placeholder_is_not_cut_off(page, alice, alice_manual, width, height):
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/")
    if width < 600:
        page.click(".outline-toggle")  # the outline drawer holds the find box on a phone
    text, room = page.locator("#find-in-manual").evaluate(PLACEHOLDER_FITS)
    assert text <= room, (text, room)


def test_the_block_type_picker_draws_its_arrow_without_a_glyph(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/section/{section.pk}/edit/")
    picker = page.wait_for_selector(".prose-menubar__selected")
    content, border = picker.evaluate(
        "el => { const s = getComputedStyle(el, '::after'); return [s.content, s.borderTopWidth]; }"
    )
    assert content == '""' and border == "5px", (content, border)
