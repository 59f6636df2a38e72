"""Bringing a Word file in, as a person does it, in Debian's Chromium."""

import pytest
from django.urls import reverse

from manuals.integrity import check_trees
from manuals.models import DocumentImport, Manual, Section
from tests.conftest import log_in, section_titled, wait_until
from tests.manuals.documents import outline_of, pandoc_docx, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOC = """# 售后话术

客户说“七天无理由”时，先确认签收日期。

![签收单](sign.png)

## 退款

| 情况 | 处理 |
|------|------|
| 未发货 | 直接退 |

#### 特殊情况

# 升级流程
"""


@pytest.fixture
def word_path(tmp_path):
    (tmp_path / "sign.png").write_bytes(png_bytes())
    return pandoc_docx(tmp_path, DOC, name="话术手册.md")


def test_an_agent_previews_a_word_file_and_imports_it_as_a_new_manual(page, alice, word_path):
    log_in(page, "alice")
    page.click("text=导入文档")
    page.set_input_files("input[type=file]", str(word_path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#import-summary")
    assert page.inner_text("#summary-sections") == "4"
    assert page.inner_text("#summary-depth") == "3"
    assert page.inner_text("#summary-images") == "1"
    assert "跳到了第 4 级" in page.inner_text("#import-warnings")
    outline = page.locator("#import-outline li").all_inner_texts()
    assert outline == ["售后话术", "退款", "特殊情况", "升级流程"]

    page.fill("input[name=title]", "我的话术手册")
    page.click("#do-import")
    page.wait_for_selector("#outline")
    manual = Manual.objects.get(title="我的话术手册")
    assert page.url.endswith(f"/manual/{manual.pk}/")
    assert page.locator("#outline a").all_inner_texts() == [
        "售后话术",
        "退款",
        "特殊情况",
        "升级流程",
    ]
    # The section page (on the manual page an outline click scrolls the document).
    first = Section.objects.get(manual=manual, title="售后话术")
    page.goto(page.base_url + reverse("manuals:section", args=[manual.pk, first.pk]))
    body = page.locator("#section-body")
    assert "七天无理由" in body.inner_text()
    # The picture came through the image pipeline and is served to its owner.
    wait_until(
        page,
        "() => { const img = document.querySelector('#section-body img');"
        " return img && img.complete && img.naturalWidth > 0; }",
    )
    assert check_trees() == []


def test_importing_under_a_section_and_cancelling(page, alice, alice_manual, word_path):
    log_in(page, "alice")
    target = section_titled(alice_manual, "项目资料")
    page.goto(f"{page.base_url}/manual/{alice_manual.pk}/section/{target.pk}/")
    page.click("text=导入 Word 到这一节下")
    page.set_input_files("input[type=file]", str(word_path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#import-summary")
    assert page.is_checked("input[name=destination][value=existing]")
    page.click("#do-import")
    page.wait_for_selector("#section-body")
    target.refresh_from_db()
    assert [c.title for c in target.get_children()] == ["售后话术", "升级流程"]

    # A second upload, cancelled from the preview: nothing is imported.
    page.goto(f"{page.base_url}/import/")
    page.set_input_files("input[type=file]", str(word_path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#import-summary")
    page.click("#cancel-import")
    page.wait_for_selector(".message")
    assert DocumentImport.objects.latest("pk").status == "cancelled"
    assert Manual.objects.count() == 1
    assert outline_of(alice_manual).count((1, "售后话术")) == 0


def test_a_bad_file_explains_itself_in_the_browser(page, alice, tmp_path):
    fake = tmp_path / "报告.docx"
    fake.write_text("这不是 Word 文件", encoding="utf-8")
    log_in(page, "alice")
    page.goto(f"{page.base_url}/import/")
    page.set_input_files("input[type=file]", str(fake))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#import-error")
    assert "不是 Word 文档" in page.inner_text("#import-error")
    assert not Manual.objects.exists()
