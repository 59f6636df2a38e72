import zipfile

import pytest

from manuals.documents.importing import import_document, read_document
from manuals.documents.markdown import export_markdown, export_markdown_zip
from manuals.documents.types import ImportRefused
from manuals.integrity import check_trees
from manuals.models import Image, Section
from tests.conftest import section_titled
from tests.manuals.documents import outline_of, png_bytes

NOTES = """---
title: 我的笔记
---

开场白。

# 规则

遵守 **流程**，[详见](https://example.com)。

## 细则 ~~旧~~

| 项 | 值 |
|----|----|
| a  | 1  |

![图一](pics/one.png)

#### 深一层

    code here

# 工具
"""


def test_markdown_headings_become_the_tree_and_pictures_beside_it_are_imported(alice, tmp_path):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "one.png").write_bytes(png_bytes())
    source = tmp_path / "notes.md"
    source.write_text(NOTES, encoding="utf-8")
    parsed = read_document(source, local_images=True)
    manual = import_document(parsed=parsed, owner=alice)
    assert manual.title == "我的笔记"
    assert outline_of(manual) == [
        (1, "引言"), (1, "规则"), (2, "细则 旧"), (3, "深一层"), (1, "工具")
    ]  # fmt: skip
    assert any("从第 2 级跳到了第 4 级" in w for w in parsed.warnings)
    rules = section_titled(manual, "规则").body
    assert "<strong>流程</strong>" in rules and 'href="https://example.com"' in rules
    detail = section_titled(manual, "细则 旧").body
    image = Image.objects.get(manual=manual)
    assert f'data-image-id="{image.pk}"' in detail and "<td>a</td>" in detail
    assert "<pre><code>code here" in section_titled(manual, "深一层").body
    assert check_trees() == []


def test_an_uploaded_markdown_file_cannot_read_files_from_the_server(alice, tmp_path):
    (tmp_path / "secret.png").write_bytes(png_bytes())
    source = tmp_path / "up.md"
    source.write_text("# 一\n\n![x](secret.png) ![y](../../etc/passwd)\n", encoding="utf-8")
    parsed = read_document(source)  # an upload: no folder to read from
    assert not parsed.images
    assert any("找不到文件" in w for w in parsed.warnings)


def test_a_zip_with_markdown_and_pictures_imports_and_gbk_text_is_decoded(alice, tmp_path):
    path = tmp_path / "notes.zip"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("doc/说明.md", "# 标题\n\n中文内容\n\n![p](img/a.png)\n".encode("gb18030"))
        package.writestr("doc/img/a.png", png_bytes())
    manual = import_document(parsed=read_document(path), owner=alice)
    assert manual.title == "说明"
    body = section_titled(manual, "标题").body
    assert "中文内容" in body and "data-image-id" in body


def test_an_empty_markdown_file_is_refused(tmp_path):
    source = tmp_path / "empty.md"
    source.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="文档是空的"):
        read_document(source)


def test_markdown_export_keeps_the_outline_and_imports_back(alice, alice_manual, tmp_path):
    text, files = export_markdown(manual=alice_manual)
    assert "# 管理制度\n" in text and "### 2024-03 退款纠纷" not in text
    assert "## 2024-03 退款纠纷\n" in text and "### 客户情绪\n" in text
    assert files == {}
    source = tmp_path / "export.md"
    source.write_text(text, encoding="utf-8")
    again = import_document(parsed=read_document(source), owner=alice)
    assert outline_of(again) == outline_of(alice_manual)
    assert section_titled(again, "考勤制度").body == "<p>考勤制度的内容</p>"


def test_markdown_zip_export_carries_the_pictures(alice, alice_manual, tmp_path):
    from manuals.images.pipeline import store_image

    image = store_image(manual=alice_manual, data=png_bytes(), original_name="a.png", user=alice)
    section = section_titled(alice_manual, "项目资料")
    Section.objects.filter(pk=section.pk).update(
        body=f'<p>图：<img src="/images/{image.pk}/" data-image-id="{image.pk}" alt="示意"></p>'
    )
    path = tmp_path / "m.zip"
    path.write_bytes(export_markdown_zip(manual=alice_manual))
    with zipfile.ZipFile(path) as package:
        assert any(name.startswith("assets/") for name in package.namelist())
    again = import_document(parsed=read_document(path), owner=alice)
    body = section_titled(again, "项目资料").body
    copied = Image.objects.get(manual=again)
    assert f'data-image-id="{copied.pk}"' in body and 'alt="示意"' in body


def test_a_reader_exports_only_what_they_may_read(bob, alice_manual):
    shared = section_titled(alice_manual, "工作复盘")
    Section.objects.filter(pk=shared.pk).update(visibility=Section.Visibility.SHARED)
    text, _files = export_markdown(manual=alice_manual, user=bob)
    assert "# 工作复盘" in text
    assert "管理制度" not in text and "客户情绪" not in text
