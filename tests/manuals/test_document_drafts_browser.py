"""Drafts and pasting in the continuous document's in-place editor, as on the edit page
(tests/manuals/test_drafts_browser.py), in Debian's Chromium: what is typed in place
survives a session ended in another tab and a closed tab, and a pasted screenshot becomes a
picture of the manual."""

import base64

import pytest

from manuals.models import Draft, Image, Section
from tests.conftest import PASSWORD, log_in, section_titled, wait_until
from tests.manuals.test_drafts_browser import PASTE, wait_for
from tests.manuals.test_images import picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDITOR = ".ProseMirror[contenteditable=true]"


def open_in_place(page, section) -> str:
    """The section's in-place editor on its manual's page; returns the section's selector."""
    selector = f"#s-{section.pk}"
    page.goto(f"{page.base_url}/manual/{section.manual_id}/")
    page.click(f"{selector} .doc-body")
    page.wait_for_selector(f"{selector} {EDITOR}")
    return selector


def local_drafts(page) -> list[str]:
    return page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('lanbitou-draft'))")


def test_logged_out_in_another_tab_during_an_edit_in_place_keeps_the_text(
    page, alice, alice_manual
):
    page.set_viewport_size({"width": 1366, "height": 900})
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    selector = open_in_place(page, section)
    page.keyboard.press("End")
    page.keyboard.type("迟到十分钟以内不扣分。")

    other = page.context.new_page()
    other.goto(page.base_url + "/")
    other.click("header form[action='/logout/'] button")
    other.wait_for_url("**/login/")
    other.close()

    page.keyboard.press("Control+s")
    notice = page.locator(f"{selector} [data-draft-notice]")
    notice.wait_for(state="visible")
    assert "请在另一个标签页登录" in notice.inner_text()
    assert page.url.endswith(f"/manual/{alice_manual.pk}/")  # never sent to the login page
    assert "迟到十分钟以内不扣分" in page.inner_text(f"{selector} {EDITOR}")
    section.refresh_from_db()
    assert "迟到十分钟" not in section.body

    # The notice's link logs in in a new tab, which lands in this section's editor.
    with page.context.expect_page() as opened:
        page.click(f"{selector} [data-draft-login]")
    tab = opened.value
    tab.fill("input[name=username]", "alice")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"**/section/{section.pk}/edit/")
    tab.close()

    # Back on the document, Save works now (the new login's security token is used).
    page.keyboard.press("Control+s")
    page.wait_for_selector(f"{selector} .doc-saved")
    assert "迟到十分钟以内不扣分" in page.inner_text(f"{selector} .doc-body")
    section.refresh_from_db()
    assert "迟到十分钟以内不扣分" in section.body and section.version == 2
    wait_for(lambda: not Draft.objects.filter(section=section).exists())
    assert local_drafts(page) == []  # nothing private left behind in the browser


def test_a_closed_tab_offers_its_in_place_draft_again_and_the_restored_text_saves(
    page, alice, alice_manual
):
    page.set_viewport_size({"width": 1366, "height": 900})
    section = section_titled(alice_manual, "质检标准")
    log_in(page, "alice")
    selector = open_in_place(page, section)
    page.fill(f"{selector} input[name=title]", "质检标准（修订）")
    page.click(f"{selector} {EDITOR}")
    page.keyboard.press("End")
    page.keyboard.type("客户第三次来电时转主管。")
    # Kept on the server within a few seconds, without a new version.
    wait_for(lambda: Draft.objects.filter(section=section, body__contains="第三次来电").exists())
    section.refresh_from_db()
    assert section.version == 1
    context = page.context
    page.close()  # like a crash: no "leave the page?" question, no save

    # The edit page offers the same draft...
    again = context.new_page()
    again.base_url = page.base_url
    again.goto(f"{page.base_url}/manual/{alice_manual.pk}/section/{section.pk}/edit/")
    again.locator("[data-draft-offer]").wait_for()
    # ...and so does the section opened in place again.
    selector = open_in_place(again, section)
    offer = again.locator(f"{selector} [data-draft-offer]")
    offer.wait_for()
    assert "未保存的草稿" in offer.inner_text()
    assert "第三次来电" not in again.inner_text(f"{selector} {EDITOR}")  # offered, not imposed
    again.click(f"{selector} [data-draft-restore]")
    assert "客户第三次来电时转主管。" in again.inner_text(f"{selector} {EDITOR}")
    assert again.input_value(f"{selector} input[name=title]") == "质检标准（修订）"
    again.keyboard.press("Control+s")
    again.wait_for_selector(f"{selector} .doc-saved")
    section.refresh_from_db()
    assert section.title == "质检标准（修订）" and "第三次来电" in section.body
    assert section.version == 2
    assert not Draft.objects.filter(section=section).exists()
    assert local_drafts(again) == []
    # Opened in place once more: nothing is offered.
    again.click(f"{selector} .doc-body")
    again.wait_for_selector(f"{selector} {EDITOR}")
    again.wait_for_timeout(500)
    assert again.locator(f"{selector} [data-draft-offer]").count() == 0


def test_leaving_the_editor_and_throwing_the_changes_away_discards_the_draft(
    page, alice, alice_manual
):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    selector = open_in_place(page, section)
    page.keyboard.type("不要了")
    wait_for(lambda: Draft.objects.filter(section=section).exists())
    page.once("dialog", lambda dialog: dialog.accept())  # 放弃还没保存的修改？ — yes
    page.keyboard.press("Escape")
    page.wait_for_selector(f"{selector} .inline-editor", state="detached")
    wait_for(lambda: not Draft.objects.filter(section=section).exists())
    assert local_drafts(page) == []


def test_a_refused_security_check_in_place_keeps_the_text_and_says_so(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    selector = open_in_place(page, section)
    page.keyboard.type("投诉升级先报备。")
    page.context.clear_cookies(name="csrftoken")  # the CSRF check now fails with a 403
    page.click(f"{selector} [data-action=save]")
    notice = page.locator(f"{selector} [data-draft-notice]")
    notice.wait_for(state="visible")
    assert "安全校验" in notice.inner_text()
    assert "投诉升级先报备。" in page.inner_text(f"{selector} {EDITOR}")
    section.refresh_from_db()
    assert "投诉升级" not in section.body


def test_a_screenshot_pasted_in_place_becomes_a_picture_of_the_manual(page, alice, alice_manual):
    section = section_titled(alice_manual, "学习工具")
    log_in(page, "alice")
    selector = open_in_place(page, section)
    png = base64.b64encode(picture("PNG", size=(320, 200))).decode()
    page.evaluate(PASTE, ["file", png])
    wait_until(page, f"!!document.querySelector('{selector} .tiptap img[src^=\"/images/\"]')")
    image = Image.objects.get(manual=alice_manual)
    assert (image.width, image.height) == (320, 200)
    assert page.get_attribute(f"{selector} {EDITOR} img", "src") == f"/images/{image.pk}/"
    assert "已存入图片库" in page.inner_text(f"{selector} [data-paste-notice]")
    page.keyboard.press("Control+s")
    page.wait_for_selector(f"{selector} .doc-saved")
    section.refresh_from_db()
    assert f'src="/images/{image.pk}/"' in section.body
    shown = page.locator(f"{selector} .doc-body img")
    assert shown.evaluate("img => img.complete && img.naturalWidth") > 0
    # It is in the manual's picture library, beside the edit page's editor.
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/section/{section.pk}/edit/")
    page.wait_for_selector(f'[data-image-grid] [data-image-id="{image.pk}"]')


def test_word_text_pasted_in_place_keeps_headings_and_notes_the_pictures_it_cannot_take(
    page, alice, alice_manual
):
    section = section_titled(alice_manual, "学习工具")
    log_in(page, "alice")
    selector = open_in_place(page, section)
    html = (
        "<h1>退款流程</h1><p class=MsoNormal>先核对订单。</p>"
        "<p class=MsoHeading2>特殊情况</p>"
        "<p><img src='file:///C:/Users/a/AppData/Local/Temp/msohtmlclip1/01/clip_image002.png'>"
        "<img src='https://example.com/banner.png'></p>"
    )
    page.evaluate(PASTE, ["html", html])
    notice = page.locator(f"{selector} [data-paste-notice]")
    notice.wait_for(state="visible")
    assert "有 2 张图片无法直接粘贴" in notice.inner_text()
    body = page.inner_html(f"{selector} {EDITOR}")
    assert "<h2>退款流程</h2>" in body and "<h3>特殊情况</h3>" in body
    assert body.count("此处图片未能粘贴") == 2
    assert "file://" not in body and "example.com" not in body
    page.keyboard.press("Control+s")
    page.wait_for_selector(f"{selector} .doc-saved")
    section.refresh_from_db()
    assert "<h2>退款流程</h2>" in section.body and "此处图片未能粘贴" in section.body


def test_leaving_the_page_mid_edit_keeps_the_draft_before_the_next_round(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/")
    page.evaluate("document.getElementById('document').dataset.draftEvery = '600000'")
    selector = f"#s-{section.pk}"
    page.click(f"{selector} .doc-body")
    page.wait_for_selector(f"{selector} {EDITOR}")
    page.keyboard.type("刚打的字")
    page.on("dialog", lambda dialog: dialog.accept())  # leave the page? — yes
    page.goto(f"{page.base_url}/")  # the page is hidden: the draft goes with it
    wait_for(lambda: Draft.objects.filter(section=section, body__contains="刚打的字").exists())


def pump_until(page, condition, timeout: float = 10.0) -> None:
    """Wait, letting the page's routes and events run (a plain sleep would hold them)."""
    for _ in range(int(timeout * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("still false")


def test_typing_on_while_a_save_is_on_its_way_keeps_the_newer_text(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    saves = []
    page.route("**/save/", lambda route: saves.append(route))  # a slow network
    selector = open_in_place(page, section)
    page.keyboard.press("End")
    page.keyboard.type("第一句。")
    page.keyboard.press("Control+s")
    pump_until(page, lambda: bool(saves))
    page.keyboard.type("第二句在保存途中打的。")
    saves[0].continue_()
    page.wait_for_selector(f"{selector} .inline-status:text-is('已保存。')")
    section.refresh_from_db()
    assert "第一句" in section.body and "第二句" not in section.body
    # Still in the editor, on the saved version, and the newer text is kept as a draft.
    assert "第二句在保存途中打的" in page.inner_text(f"{selector} {EDITOR}")
    pump_until(page, lambda: Draft.objects.filter(body__contains="第二句").exists())
    assert Draft.objects.get(section=section).base_version == section.version
    page.unroute("**/save/")
    page.keyboard.press("Control+s")
    page.wait_for_selector(f"{selector} .doc-saved")
    section.refresh_from_db()
    assert "第二句在保存途中打的" in section.body and not Draft.objects.exists()


def test_leaving_while_a_save_is_on_its_way_keeps_the_editor_for_its_answer(
    page, alice, alice_manual
):
    section = section_titled(alice_manual, "考勤制度")
    other = section_titled(alice_manual, "质检标准")
    log_in(page, "alice")
    saves = []
    page.route("**/save/", lambda route: saves.append(route))
    selector = open_in_place(page, section)
    page.keyboard.press("End")
    page.keyboard.type("很重要的一段话。")
    Section.objects.filter(pk=section.pk).update(version=5)  # saved elsewhere meanwhile
    page.keyboard.press("Control+s")
    pump_until(page, lambda: bool(saves))
    page.on("dialog", lambda dialog: dialog.accept())
    page.click(f"#s-{other.pk} .doc-body")
    page.keyboard.press("Escape")
    saves[0].continue_()
    # The conflict comes back to the editor that is still open, with the text in it.
    page.wait_for_selector(f"{selector} .inline-conflict table.diff")
    assert "很重要的一段话" in page.inner_text(f"{selector} .inline-conflict")
    assert page.locator(f"#s-{other.pk} .inline-editor").count() == 0


def test_a_slow_draft_never_comes_back_after_the_save(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    held = []

    def slow_first_draft(route):
        if route.request.method == "POST" and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/draft/", slow_first_draft)
    selector = open_in_place(page, section)
    page.keyboard.press("End")
    page.keyboard.type("旧的一半")
    pump_until(page, lambda: bool(held))
    page.keyboard.type("，新的一半。")
    page.wait_for_timeout(4000)  # a draft round passes while the first is on its way
    page.keyboard.press("Control+s")
    page.wait_for_timeout(500)
    held[0].continue_()  # the old draft lands; the Save waited for it
    page.wait_for_selector(f"{selector} .doc-saved")
    page.wait_for_timeout(1000)
    section.refresh_from_db()
    assert "新的一半" in section.body
    assert not Draft.objects.exists()
