"""Find in this manual and the search box, in Debian's Chromium."""

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from manuals.tree import SectionContent, save_section_content
from search.index import rebuild_index
from tests.conftest import log_in, section_titled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def write(section, body):
    save_section_content(
        section=section,
        expected_version=section.version,
        content=SectionContent(title=section.title, body=body),
    )


@pytest.fixture
def manual(alice_manual):
    write(section_titled(alice_manual, "考勤制度"), "<p>迟到要<b>退</b>款吗？</p><p>不退款。</p>")
    write(section_titled(alice_manual, "质检标准"), "<p>質檢：退款單必須回訪</p>")
    write(section_titled(alice_manual, "客户情绪"), "<p>客户要求退款</p>")
    rebuild_index()
    return alice_manual


def section_url(page, manual, title):
    return f"{page.base_url}/manual/{manual.pk}/section/{section_titled(manual, title).pk}/"


def test_find_steps_through_every_hit_across_sections(page, alice, manual):
    # 退款 occurs: 考勤制度 ×2, 质检标准 ×1, "2024-03 退款纠纷" ×2 (title and body), 客户情绪 ×1
    log_in(page, "alice")
    page.goto(section_url(page, manual, "考勤制度"))
    page.fill("#find-in-manual", "退款")
    count = page.locator(".find-count")
    expect(count).to_have_text("1 / 6")
    # The first hit spans two text nodes (退 is bold): both pieces are marked.
    expect(page.locator("#section-body mark.find-hit.current")).to_have_count(2)
    page.click("[data-find=next]")
    expect(count).to_have_text("2 / 6")
    expect(page.locator("#section-body mark.find-hit.current")).to_have_text("退款")
    page.click("[data-find=next]")  # on to the next section that has hits
    page.wait_for_url(re.compile(rf"/section/{section_titled(manual, '质检标准').pk}/\?q="))
    expect(count).to_have_text("3 / 6")
    expect(page.locator("#section-body mark.find-hit.current")).to_have_text("退款")
    page.keyboard.press("Enter")  # Enter in the box is "next" too
    page.wait_for_url(re.compile(rf"/section/{section_titled(manual, '2024-03 退款纠纷').pk}/"))
    expect(count).to_have_text("4 / 6")
    expect(page.locator("h1 mark.find-hit.current")).to_have_text("退款")  # in the title
    page.click("[data-find=next]")
    expect(count).to_have_text("5 / 6")
    page.click("[data-find=prev]")
    expect(count).to_have_text("4 / 6")
    page.click("[data-find=prev]")  # back to the previous section, at its last hit
    page.wait_for_url(re.compile(rf"/section/{section_titled(manual, '质检标准').pk}/"))
    expect(count).to_have_text("3 / 6")
    page.click("[data-find=prev]")
    page.wait_for_url(re.compile(rf"/section/{section_titled(manual, '考勤制度').pk}/"))
    expect(count).to_have_text("2 / 6")
    # Outline badges show how many hits each section has.
    expect(page.locator(".find-count-badge")).to_have_count(4)


def test_traditional_query_highlights_simplified_text(page, alice, manual):
    log_in(page, "alice")
    page.goto(section_url(page, manual, "质检标准") + "?q=" + quote("质检"))
    expect(page.locator("#section-body mark.find-hit")).to_have_text("質檢")
    expect(page.locator("#find-in-manual")).to_have_value("质检")


def test_words_in_title_and_body_match_together(page, alice, manual):
    log_in(page, "alice")
    page.goto(section_url(page, manual, "考勤制度"))
    page.fill("#find-in-manual", "考勤 迟到")
    expect(page.locator(".find-count")).to_have_text("1 / 2")
    expect(page.locator("h1 mark.find-hit.current")).to_have_text("考勤")
    page.keyboard.press("Enter")
    expect(page.locator("#section-body mark.find-hit.current")).to_have_text("迟到")


def test_search_box_shortcut_and_result_click(page, alice, manual):
    log_in(page, "alice")
    page.goto(page.base_url + "/")
    page.keyboard.press("/")
    expect(page.locator("#site-search")).to_be_focused()
    page.keyboard.type("回访")
    page.keyboard.press("Enter")
    expect(page.locator(".search-hit")).to_have_count(1)
    expect(page.locator(".search-hit mark")).to_have_text("回訪")
    page.locator("#site-search").blur()
    page.keyboard.press("Control+k")
    expect(page.locator("#site-search")).to_be_focused()
    page.click(".search-hit-title")
    expect(page.locator("#section-body mark.find-hit.current")).to_have_text("回訪")
    expect(page.locator(".find-count")).to_have_text("1 / 1")
