"""Drafts and pasting in the section editor, as a person meets them, in Debian's Chromium:
what is typed survives a session ended in another tab and a closed tab, and pasted
pictures become library pictures instead of empty images."""

import base64
import time

import pytest

from manuals.models import Draft, Image
from manuals.tree import SectionContent, save_section_content
from tests.conftest import PASSWORD, log_in, section_titled, wait_until
from tests.manuals.test_images import picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDITOR = ".ProseMirror[contenteditable=true]"


def edit_url(page, section) -> str:
    return f"{page.base_url}/manual/{section.manual_id}/section/{section.pk}/edit/"


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "still false"
        time.sleep(0.1)


def test_save_after_logging_out_in_another_tab_keeps_the_text(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    page.goto(edit_url(page, section))
    page.locator(EDITOR).click()
    page.keyboard.type("迟到十分钟以内不扣分。")

    other = page.context.new_page()
    other.goto(page.base_url + "/")
    other.click("header form[action='/logout/'] button")
    other.wait_for_url("**/login/")
    other.close()

    page.click("#save")
    notice = page.locator("[data-draft-notice]")
    notice.wait_for(state="visible")
    assert "请在另一个标签页登录" in notice.inner_text()
    assert page.url == edit_url(page, section)  # never sent to the login page
    assert "迟到十分钟以内不扣分" in page.inner_text(EDITOR)

    # The notice's link logs in in a new tab, which lands in the editor and offers the text.
    with page.context.expect_page() as opened:
        page.click("[data-draft-login]")
    tab = opened.value
    tab.fill("input[name=username]", "alice")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/edit/")
    offer = tab.locator("[data-draft-offer]")
    offer.wait_for()
    assert "未保存的草稿" in offer.inner_text()
    tab.click("[data-draft-restore]")
    assert "迟到十分钟以内不扣分" in tab.inner_text(EDITOR)
    tab.close()

    # Back in the first tab, Save works now: the new login's security token is used.
    page.click("#save")
    page.wait_for_selector("#section-body")
    section.refresh_from_db()
    assert "迟到十分钟以内不扣分" in section.body
    assert not Draft.objects.filter(section=section).exists()
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('lanbitou-draft'))")
    assert kept == []  # nothing private left behind in the browser


def test_a_closed_tab_offers_its_draft_when_the_section_is_opened_again(page, alice, alice_manual):
    section = section_titled(alice_manual, "质检标准")
    log_in(page, "alice")
    page.goto(edit_url(page, section))
    page.fill("input[name=title]", "质检标准（修订）")
    page.locator(EDITOR).click()
    page.keyboard.type("客户第三次来电时转主管。")
    # Kept on the server within a few seconds, without a new version.
    wait_for(lambda: Draft.objects.filter(section=section, body__contains="第三次来电").exists())
    context = page.context
    page.close()  # like a crash: no "leave the page?" question, no save

    again = context.new_page()
    again.goto(edit_url(page, section))
    offer = again.locator("[data-draft-offer]")
    offer.wait_for()
    assert "你有一份" in offer.inner_text() and "未保存的草稿" in offer.inner_text()
    assert "第三次来电" not in again.inner_text(EDITOR)  # offered, not imposed
    again.click("[data-draft-restore]")
    assert "客户第三次来电时转主管。" in again.inner_text(EDITOR)
    assert again.input_value("input[name=title]") == "质检标准（修订）"
    again.click("#save")
    again.wait_for_selector("#section-body")
    section.refresh_from_db()
    assert section.title == "质检标准（修订）" and "第三次来电" in section.body
    assert section.version == 2
    assert not Draft.objects.filter(section=section).exists()


def test_a_discarded_draft_is_not_offered_again(page, alice, alice_manual):
    section = section_titled(alice_manual, "项目资料")
    Draft.objects.create(user=alice, section=section, body="<p>旧草稿</p>", base_version=1)
    log_in(page, "alice")
    page.goto(edit_url(page, section))
    page.locator("[data-draft-offer]").wait_for()
    page.click("[data-draft-discard]")
    wait_for(lambda: not Draft.objects.filter(section=section).exists())
    page.reload()
    page.locator(EDITOR).wait_for()
    page.wait_for_timeout(500)
    assert page.locator("[data-draft-offer]").count() == 0


PASTE = """([kind, payload]) => {
  const data = new DataTransfer();
  if (kind === "file") {
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], "image.png", { type: "image/png" }));
  } else {
    data.setData("text/html", payload);
  }
  const editor = document.querySelector(".ProseMirror[contenteditable=true]");
  editor.focus();
  editor.dispatchEvent(
    new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })
  );
}"""


def test_a_pasted_screenshot_becomes_a_library_picture(page, alice, alice_manual):
    section = section_titled(alice_manual, "学习工具")
    log_in(page, "alice")
    page.goto(edit_url(page, section))
    page.locator(EDITOR).click()
    png = base64.b64encode(picture("PNG", size=(320, 200))).decode()
    page.evaluate(PASTE, ["file", png])
    wait_until(page, "!!document.querySelector('.tiptap img[src^=\"/images/\"]')")
    image = Image.objects.get(manual=alice_manual)
    assert (image.width, image.height) == (320, 200)
    src = page.get_attribute(EDITOR + " img", "src")
    assert src == f"/images/{image.pk}/"
    assert page.locator(f'[data-image-grid] [data-image-id="{image.pk}"]').count() == 1
    assert "已存入图片库" in page.inner_text("[data-paste-notice]")
    page.click("#save")
    page.wait_for_selector("#section-body")
    section.refresh_from_db()
    assert f'src="/images/{image.pk}/"' in section.body
    assert page.locator("#section-body img").evaluate("img => img.naturalWidth") > 0


def test_pasted_word_html_keeps_headings_and_says_which_pictures_to_upload(
    page, alice, alice_manual
):
    section = section_titled(alice_manual, "学习工具")
    log_in(page, "alice")
    page.goto(edit_url(page, section))
    page.locator(EDITOR).click()
    png = base64.b64encode(picture("PNG", size=(64, 48))).decode()
    html = (
        "<h1>退款流程</h1><p class=MsoNormal>先核对订单。</p>"
        "<p class=MsoHeading2>特殊情况</p>"
        "<p class=MsoNormal style='mso-outline-level:3'>跨境订单</p>"
        f"<p><img src='data:image/png;base64,{png}'></p>"
        "<p><img src='file:///C:/Users/a/AppData/Local/Temp/msohtmlclip1/01/clip_image002.png'>"
        "<img src='https://example.com/banner.png'></p>"
    )
    page.evaluate(PASTE, ["html", html])
    notice = page.locator("[data-paste-notice]")
    notice.wait_for(state="visible")
    assert "有 2 张图片无法直接粘贴" in notice.inner_text()
    body = page.inner_html(EDITOR)
    assert "<h2>退款流程</h2>" in body
    assert "<h3>特殊情况</h3>" in body
    assert "<h4>跨境订单</h4>" in body
    assert body.count("此处图片未能粘贴") == 2
    image = Image.objects.get(manual=alice_manual)
    assert f'src="/images/{image.pk}/"' in body
    assert "file://" not in body and "example.com" not in body


def test_a_draft_restored_over_a_newer_version_shows_the_conflict(page, alice, alice_manual):
    """The draft remembers the version it was typed on: restoring it after someone saved a
    newer one and pressing Save shows the conflict page with the text, never overwrites."""
    section = section_titled(alice_manual, "考勤制度")
    save_section_content(
        section=section,
        expected_version=1,
        user=alice,
        content=SectionContent(title="考勤制度", body="<p>别处保存的第二版</p>"),
    )  # fmt: skip (saved in another tab, say, while the draft was typed on version 1)
    Draft.objects.create(user=alice, section=section, body="<p>我的草稿</p>", base_version=1)
    log_in(page, "alice")
    page.goto(edit_url(page, section))
    page.locator("[data-draft-offer]").wait_for()
    page.click("[data-draft-restore]")
    page.click("#save")
    page.wait_for_selector("#conflict")
    assert "我的草稿" in page.inner_text(EDITOR)
    section.refresh_from_db()
    assert section.version == 2 and "第二版" in section.body
    assert page.locator("[data-draft-offer]").count() == 0  # the page already holds it


def test_a_refused_security_check_on_save_keeps_the_text_and_says_so(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    page.goto(edit_url(page, section))
    page.locator(EDITOR).click()
    page.keyboard.type("投诉升级先报备。")
    page.context.clear_cookies(name="csrftoken")  # the CSRF check now fails with a 403
    page.click("#save")
    notice = page.locator("[data-draft-notice]")
    notice.wait_for(state="visible")
    assert "安全校验" in notice.inner_text()
    assert page.url == edit_url(page, section)
    assert "投诉升级先报备。" in page.inner_text(EDITOR)
    section.refresh_from_db()
    assert "投诉升级" not in section.body
