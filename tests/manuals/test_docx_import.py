import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import pytest
from django.core.files.storage import default_storage
from docx.oxml import parse_xml
from docx.shared import Inches

from manuals.documents.importing import import_document, read_document
from manuals.documents.types import ImportRefused
from manuals.integrity import check_trees
from manuals.models import Image, Manual, Section
from manuals.tree import trash_section
from tests.conftest import section_titled
from tests.manuals.documents import (
    add_outline_style,
    outline_of,
    pandoc_docx,
    png_bytes,
    python_docx,
    set_outline_level,
)

HANDBOOK = """---
title: 售后工作手册
---

这本手册记录我在售后岗位的经验。

# 管理制度

退款必须在 **24 小时**内处理，*特殊情况*请 <u>报主管</u>，参见[公司制度](https://example.com/rules)。

- 先安抚客户
- 再核实订单
    - 查物流
    - 查支付

1. 登记
2. 回访

## 质检标准

| 项目 | 分值 |
|------|------|
| 态度 | 40 |
| 准确 | 60 |

![质检流程图](flow.png)

# 工作复盘

## 2024-03 退款纠纷

### 客户情绪

客户非常生气[^1]。

[^1]: 因为第三次催单。
"""


def import_file(path, owner, **kwargs):
    return import_document(parsed=read_document(path), owner=owner, **kwargs)


def test_a_pandoc_document_becomes_a_tree_with_formatting_lists_tables_links_and_pictures(
    alice, tmp_path
):
    (tmp_path / "flow.png").write_bytes(png_bytes())
    manual = import_file(pandoc_docx(tmp_path, HANDBOOK), alice)

    assert manual.title == "售后工作手册"
    assert manual.owner == alice
    assert outline_of(manual) == [
        (1, "引言"),
        (1, "管理制度"),
        (2, "质检标准"),
        (1, "工作复盘"),
        (2, "2024-03 退款纠纷"),
        (3, "客户情绪"),
    ]
    intro = section_titled(manual, "引言").body
    assert "这本手册记录我在售后岗位的经验" in intro
    assert "售后工作手册" not in intro  # the title names the manual, it is not body text

    rules = section_titled(manual, "管理制度").body
    assert "<strong>24 小时</strong>" in rules
    assert "<em>特殊情况</em>" in rules
    assert '<a href="https://example.com/rules"' in rules
    assert "<ul><li>先安抚客户</li><li>再核实订单<ul><li>查物流</li><li>查支付</li></ul>" in rules
    assert "<ol><li>登记</li><li>回访</li></ol>" in rules

    quality = section_titled(manual, "质检标准").body
    assert "<th>项目</th><th>分值</th>" in quality
    assert "<td>态度</td><td>40</td>" in quality
    image = Image.objects.get(manual=manual)
    assert (
        f'<img src="/images/{image.pk}/" data-image-id="{image.pk}" alt="质检流程图" '
        'width="120" height="80">'
    ) in quality
    assert image.caption == "质检流程图"
    assert default_storage.exists(image.file.name)

    feelings = section_titled(manual, "客户情绪").body
    assert "客户非常生气<sup>[1]</sup>" in feelings
    assert "因为第三次催单" in feelings
    assert check_trees() == []


def test_localised_custom_and_direct_outline_levels_all_make_headings(alice, tmp_path):
    def build(document):
        add_outline_style(document, "标题 1")  # Chinese name, no outline level of its own
        add_outline_style(document, "章节标题", based_on="Heading 2")  # renamed, based on one
        add_outline_style(document, "我的三级", level=3)  # custom style with an outline level
        document.add_paragraph("第一章 总则", style="标题 1")
        document.add_paragraph("一、适用范围", style="章节标题")
        document.add_paragraph("（一）客服岗位", style="我的三级")
        document.add_paragraph("正文内容。")
        direct = document.add_paragraph("第二章 直接设置大纲级别")
        set_outline_level(direct, 1)
        document.add_heading("内置标题 2", level=2)

    manual = import_file(python_docx(tmp_path, build), alice)
    assert outline_of(manual) == [
        (1, "第一章 总则"),
        (2, "一、适用范围"),
        (3, "（一）客服岗位"),
        (1, "第二章 直接设置大纲级别"),
        (2, "内置标题 2"),
    ]
    assert section_titled(manual, "（一）客服岗位").body == "<p>正文内容。</p>"


def test_headings_that_skip_levels_hang_under_the_previous_heading_with_a_warning(alice, tmp_path):
    def build(document):
        document.add_heading("一级", level=1)
        document.add_heading("直接四级", level=4)
        document.add_heading("又一个四级", level=4)
        document.add_heading("二级", level=2)

    parsed = read_document(python_docx(tmp_path, build))
    assert any("从第 1 级跳到了第 4 级" in w for w in parsed.warnings)
    manual = import_document(parsed=parsed, owner=alice)
    assert outline_of(manual) == [(1, "一级"), (2, "直接四级"), (2, "又一个四级"), (2, "二级")]
    assert check_trees() == []


def test_all_nine_word_heading_levels_are_kept(alice, tmp_path):
    def build(document):
        for level in range(1, 10):
            document.add_heading(f"第{level}级", level=level)
            document.add_paragraph(f"第{level}级的正文")

    manual = import_file(python_docx(tmp_path, build), alice)
    assert outline_of(manual) == [(level, f"第{level}级") for level in range(1, 10)]
    assert section_titled(manual, "第9级").body == "<p>第9级的正文</p>"


def test_merged_table_cells_and_pictures_in_python_docx_files_survive(alice, tmp_path):
    picture = tmp_path / "logo.png"
    picture.write_bytes(png_bytes((20, 120, 200)))

    def build(document):
        document.add_heading("表格", level=1)
        table = document.add_table(rows=3, cols=3)
        table.cell(0, 0).merge(table.cell(0, 1)).text = "合并两列"
        table.cell(1, 0).merge(table.cell(2, 0)).text = "合并两行"
        table.cell(1, 1).text = "b"
        document.add_picture(str(picture), width=Inches(1))
        document.add_picture(str(picture), width=Inches(1))  # the same picture twice

    manual = import_file(python_docx(tmp_path, build), alice)
    body = section_titled(manual, "表格").body
    assert '<td colspan="2">合并两列</td>' in body
    assert '<td rowspan="2">合并两行</td>' in body
    assert Image.objects.filter(manual=manual).count() == 1
    assert body.count("data-image-id") == 2


def test_a_picture_pillow_refuses_is_named_and_the_rest_imports(alice, tmp_path):
    tiff = tmp_path / "scan.tiff"
    from PIL import Image as PILImage

    PILImage.new("RGB", (40, 40), (0, 0, 0)).save(tiff, "TIFF")

    def build(document):
        document.add_heading("扫描件", level=1)
        document.add_paragraph("下面是扫描件：")
        document.add_picture(str(tiff))

    parsed = read_document(python_docx(tmp_path, build))
    manual = import_document(parsed=parsed, owner=alice)
    body = section_titled(manual, "扫描件").body
    assert "下面是扫描件" in body
    assert "图片未能导入" in body
    assert any("未导入" in warning for warning in parsed.warnings)
    assert not Image.objects.filter(manual=manual).exists()


def test_text_before_the_first_heading_and_documents_without_headings(alice, tmp_path):
    def build(document):
        document.add_paragraph("只有正文，没有标题。")
        document.add_paragraph("第二段。")

    parsed = read_document(python_docx(tmp_path, build, name="交接说明.docx"))
    assert any("没有找到标题样式" in w for w in parsed.warnings)
    manual = import_document(parsed=parsed, owner=alice)
    assert outline_of(manual) == [(1, "交接说明")]
    only = Section.objects.get(manual=manual, level=1)
    assert only.body == "<p>只有正文，没有标题。</p><p>第二段。</p>"


def test_an_empty_document_is_refused(alice, tmp_path):
    path = python_docx(tmp_path, lambda document: None)
    with pytest.raises(ImportRefused, match="文档是空的"):
        read_document(path)


def test_a_password_protected_document_is_explained(tmp_path):
    plain = pandoc_docx(tmp_path, "# 机密\n\n内容")
    encrypted = tmp_path / "机密.docx"
    with open(plain, "rb") as source, open(encrypted, "wb") as target:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt("mima123", target)
    with pytest.raises(ImportRefused, match="打开密码"):
        read_document(encrypted)


def test_an_old_doc_file_is_explained(tmp_path):
    old = tmp_path / "旧文档.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)
    with pytest.raises(ImportRefused, match=r"97-2003"):
        read_document(old)


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    fake = tmp_path / "报告.docx"
    fake.write_text("这其实是一个文本文件", encoding="utf-8")
    with pytest.raises(ImportRefused, match="不是 Word 文档"):
        read_document(fake)


def test_a_zip_that_is_not_a_word_document_is_refused(tmp_path):
    path = tmp_path / "photos.docx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("photo.jpg", b"not really")
    with pytest.raises(ImportRefused, match="里面不是 Word 文档"):
        read_document(path)
    sheet = tmp_path / "表格.docx"
    with zipfile.ZipFile(sheet, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ImportRefused, match="Excel"):
        read_document(sheet)


def test_a_docx_bomb_is_refused_before_it_is_unpacked(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", b"\x00" * (60 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(ImportRefused, match="压缩炸弹"):
        read_document(path)


def test_a_corrupt_document_is_refused_with_a_message(tmp_path):
    path = tmp_path / "broken.docx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document")
    with pytest.raises(ImportRefused):
        read_document(path)


def test_a_failed_import_leaves_no_manual_no_sections_and_no_picture_files(
    alice, alice_manual, tmp_path
):
    (tmp_path / "flow.png").write_bytes(png_bytes())
    parsed = read_document(pandoc_docx(tmp_path, HANDBOOK))
    target = section_titled(alice_manual, "项目资料")
    trash_section(section=target, user=alice)
    sections_before = Section.objects.count()
    media = default_storage.location
    files_before = sorted(p.name for p in Path(media).rglob("*") if p.is_file())
    with pytest.raises(ImportRefused, match="回收站"):
        import_document(parsed=parsed, owner=alice, target=target)
    assert Section.objects.count() == sections_before
    assert not Image.objects.exists()
    assert sorted(p.name for p in Path(media).rglob("*") if p.is_file()) == files_before
    assert check_trees() == []


def test_importing_under_a_section_of_an_existing_manual(alice, alice_manual, tmp_path):
    (tmp_path / "flow.png").write_bytes(png_bytes())
    target = section_titled(alice_manual, "项目资料")
    manuals_before = Manual.objects.count()
    manual = import_file(pandoc_docx(tmp_path, HANDBOOK), alice, target=target)
    assert manual == alice_manual
    assert Manual.objects.count() == manuals_before
    assert [c.title for c in section_titled(alice_manual, "项目资料").get_children()] == [
        "引言", "管理制度", "工作复盘"
    ]  # fmt: skip
    assert outline_of(alice_manual)[-1] == (1, "学习工具")
    assert check_trees() == []


def test_nobody_imports_into_a_manual_they_cannot_write(bob, alice_manual, tmp_path):
    parsed = read_document(pandoc_docx(tmp_path, "# 一\n\n内容"))
    with pytest.raises(ImportRefused, match="不能修改"):
        import_document(parsed=parsed, owner=bob, target=section_titled(alice_manual, "项目资料"))


def test_summary_for_the_preview(tmp_path):
    (tmp_path / "flow.png").write_bytes(png_bytes())
    summary = read_document(pandoc_docx(tmp_path, HANDBOOK)).summary()
    assert summary["sections"] == 6
    assert summary["depth"] == 3
    assert summary["images"] == 1
    assert summary["outline"][:2] == [[1, "引言"], [1, "管理制度"]]


def test_tracked_changes_are_read_as_accepted_and_reported(tmp_path):
    def build(document):
        document.add_heading("修订", level=1)
        paragraph = document.add_paragraph("保留的文字")
        deleted = (
            '<w:del xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
            'w:id="1" w:author="a"><w:r><w:delText>删掉的文字</w:delText></w:r></w:del>'
        )
        paragraph._p.append(parse_xml(deleted))

    parsed = read_document(python_docx(tmp_path, build))
    assert "删掉的文字" not in parsed.sections[0].body
    assert any("接受全部修订" in w for w in parsed.warnings)


def test_an_imported_document_is_searchable_once_the_import_commits(
    alice, tmp_path, django_capture_on_commit_callbacks
):
    from search.index import check_index, rebuild_index
    from search.results import search_sections
    from tests.searching import index_pending_like_the_worker

    rebuild_index()
    path = pandoc_docx(tmp_path, "# 退款规则\n\n工单 TB20240311 必须回访。\n\n## 细则\n\n内容\n")
    with django_capture_on_commit_callbacks(execute=True):
        manual = import_document(parsed=read_document(path), owner=alice)
    index_pending_like_the_worker()
    hits = search_sections(user=alice, query="TB20240311").hits
    assert [(h.title, h.manual_id) for h in hits] == [("退款规则", manual.pk)]
    assert check_index().ok
