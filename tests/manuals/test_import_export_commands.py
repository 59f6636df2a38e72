import io
import zipfile

import docx
import pytest
from django.core.management import CommandError, call_command

from manuals.models import Manual
from tests.manuals.documents import outline_of, pandoc_docx, png_bytes


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_import_manual_prints_the_new_manual_id(alice, tmp_path):
    path = pandoc_docx(tmp_path, "# 第一章\n\n正文\n\n#### 跳级\n")
    out, err = run("import_manual", str(path), "--owner", "alice", "--title", "从 Word 来的")
    manual = Manual.objects.get(pk=int(out))
    assert manual.owner == alice and manual.title == "从 Word 来的"
    assert outline_of(manual) == [(1, "第一章"), (2, "跳级")]
    assert "跳到了第 4 级" in err


def test_import_manual_reads_markdown_with_pictures_beside_it(alice, tmp_path):
    (tmp_path / "a.png").write_bytes(png_bytes())
    source = tmp_path / "notes.md"
    source.write_text("# 图\n\n![a](a.png)\n", encoding="utf-8")
    out, _err = run("import_manual", str(source), "--owner", "alice")
    assert Manual.objects.get(pk=int(out)).images.count() == 1


def test_import_manual_explains_bad_files_and_unknown_owners(alice, tmp_path):
    bad = tmp_path / "bad.docx"
    bad.write_text("hello", encoding="utf-8")
    with pytest.raises(CommandError, match="不是 Word 文档"):
        run("import_manual", str(bad), "--owner", "alice")
    with pytest.raises(CommandError, match="no user named"):
        run("import_manual", str(bad), "--owner", "nobody")
    assert not Manual.objects.exists()


@pytest.mark.parametrize("fmt", ["archive", "docx", "md"])
def test_export_manual_writes_each_format_and_import_reads_it_back(
    alice, alice_manual, tmp_path, fmt
):
    target = tmp_path / f"out.{ {'archive': 'zip', 'docx': 'docx', 'md': 'md'}[fmt] }"
    run("export_manual", str(alice_manual.pk), "--format", fmt, "-o", str(target))
    assert target.stat().st_size > 0
    if fmt == "docx":
        assert docx.Document(str(target)).paragraphs[0].text == alice_manual.title
    if fmt == "archive":
        assert "manifest.json" in zipfile.ZipFile(target).namelist()
    out, _err = run("import_manual", str(target), "--owner", "alice")
    assert outline_of(Manual.objects.get(pk=int(out))) == outline_of(alice_manual)


def test_export_manual_of_an_unknown_manual_fails(db, tmp_path):
    with pytest.raises(CommandError, match="no manual"):
        run("export_manual", "999", "--format", "docx", "-o", str(tmp_path / "x.docx"))
