"""Pictures into a section and a booklet out of the manual, as a person does it in Chromium."""

import pytest

from manuals.models import Image
from printing.jobs import run_edition
from printing.models import Edition
from tests.conftest import log_in, section_titled
from tests.printing.conftest import picture_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_uploads_a_picture_and_inserts_it_beside_the_text(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/section/{section.pk}/edit/")
    page.wait_for_selector(".ProseMirror[contenteditable=true]")
    panel = page.locator("[data-image-panel]")
    panel.locator("[data-field=file]").set_input_files(
        files=[{"name": "工单.jpg", "mimeType": "image/jpeg", "buffer": picture_bytes()}]
    )
    panel.locator("[data-field=caption]").fill("打卡页面")
    panel.locator("[data-upload-button]").click()
    tile = panel.locator(".image-panel-tile").first
    tile.wait_for()
    assert "已上传" in panel.locator("[data-image-status]").inner_text()
    image = Image.objects.get(manual=alice_manual)

    page.locator(".ProseMirror[contenteditable=true]").click()
    panel.locator("[data-layout][value=side]").check()
    tile.click()
    page.wait_for_selector(f'.ProseMirror img[src="/images/{image.pk}/"]')
    page.click("#save")
    page.wait_for_selector("#section-body")
    section.refresh_from_db()
    assert f'src="/images/{image.pk}/"' in section.body and "layout-side" in section.body
    assert "<figcaption>打卡页面</figcaption>" in section.body
    shown = page.locator(f'#section-body img[src="/images/{image.pk}/"]')
    assert shown.evaluate("img => img.naturalWidth") > 0  # served to its owner


def test_a_refused_upload_says_why_in_the_panel(page, alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/section/{section.pk}/edit/")
    panel = page.locator("[data-image-panel]")
    panel.locator("[data-field=file]").set_input_files(
        files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture"}]
    )
    panel.locator("[data-upload-button]").click()
    page.wait_for_selector("[data-image-status].error")
    assert "只支持" in panel.locator("[data-image-status]").inner_text()


def test_an_agent_orders_a_booklet_and_downloads_it_when_ready(page, alice, alice_manual):
    log_in(page, "alice")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/")
    page.click("#print-link")
    page.select_option("select[name=theme]", "ink-wash")
    page.fill("input[name=title]", "2026 年春季版")
    page.click("#print-form button[type=submit]")
    page.wait_for_selector("#edition-status")
    assert "排队中" in page.inner_text("#edition-status")
    edition = Edition.objects.get()
    run_edition(edition_id=edition.pk)  # what the printing worker does
    page.wait_for_selector("[data-field=done]:not([hidden])", timeout=15_000)
    assert "已完成" in page.inner_text("#edition-status")
    with page.expect_download() as download:
        page.click("[data-field=download]")
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
