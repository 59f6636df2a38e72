import io
import os
import zipfile
from datetime import timedelta

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from manuals.documents import jobs as import_jobs
from manuals.integrity import check_trees
from manuals.models import DocumentImport, Manual, Section
from tests.conftest import section_titled
from tests.manuals.documents import outline_of, pandoc_docx, png_bytes

DOC = "# 第一章\n\n正文一\n\n## 第一节\n\n正文二\n\n#### 跳到四级\n\n![图](a.png)\n\n# 第二章\n"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def word_file(tmp_path):
    (tmp_path / "a.png").write_bytes(png_bytes())
    path = pandoc_docx(tmp_path, DOC, name="售后流程.md")
    return SimpleUploadedFile("售后流程.docx", path.read_bytes(), content_type=DOCX)


def upload(client, file) -> DocumentImport:
    response = client.post(reverse("manuals:import_upload"), {"document": file})
    assert response.status_code == 302, response.content.decode()[:500]
    return DocumentImport.objects.latest("pk")


def test_upload_preview_and_import_into_a_new_manual(client, alice, word_file):
    client.force_login(alice)
    job = upload(client, word_file)
    page = client.get(reverse("manuals:import_preview", args=[job.pk])).content.decode()
    assert 'id="summary-sections">4<' in page
    assert 'id="summary-depth">3<' in page
    assert 'id="summary-images">1<' in page
    assert "从第 2 级跳到了第 4 级" in page
    assert "第一节" in page and "跳到四级" in page

    response = client.post(
        reverse("manuals:import_confirm", args=[job.pk]),
        {"destination": "new", "title": "我的售后流程"},
    )
    manual = Manual.objects.get(title="我的售后流程")
    assert response.status_code == 302 and response["Location"] == f"/manual/{manual.pk}/"
    assert manual.owner == alice
    assert outline_of(manual) == [(1, "第一章"), (2, "第一节"), (3, "跳到四级"), (1, "第二章")]
    assert manual.images.count() == 1
    job.refresh_from_db()
    assert job.status == job.Status.DONE and not job.file
    assert check_trees() == []


def test_import_under_a_chosen_section_of_my_manual(client, alice, alice_manual, word_file):
    client.force_login(alice)
    job = upload(client, word_file)
    target = section_titled(alice_manual, "项目资料")
    page = client.get(reverse("manuals:import_preview", args=[job.pk])).content.decode()
    assert f'value="s{target.pk}"' in page
    response = client.post(
        reverse("manuals:import_confirm", args=[job.pk]),
        {"destination": "existing", "target": f"s{target.pk}"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert [c.title for c in target.get_children()] == ["第一章", "第二章"]
    assert Manual.objects.count() == 1


def test_cancel_removes_the_upload_and_imports_nothing(client, alice, word_file):
    client.force_login(alice)
    job = upload(client, word_file)
    stored = job.file.path
    response = client.post(reverse("manuals:import_cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == job.Status.CANCELLED
    assert not Manual.objects.exists()
    assert not os.path.exists(stored)
    again = client.post(reverse("manuals:import_confirm", args=[job.pk]), {"destination": "new"})
    assert again.status_code == 302 and not Manual.objects.exists()


def test_a_bad_file_shows_its_reason_on_the_page(client, alice):
    client.force_login(alice)
    job = upload(client, SimpleUploadedFile("报告.docx", b"just text, not a zip"))
    page = client.get(reverse("manuals:import_preview", args=[job.pk])).content.decode()
    assert "无法导入" in page and "不是 Word 文档" in page
    assert not Manual.objects.exists()


def test_an_empty_upload_is_refused_on_the_form(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("manuals:import_upload"), {"document": SimpleUploadedFile("a.docx", b"")}
    )
    assert response.status_code == 200
    assert "空" in response.content.decode()
    assert not DocumentImport.objects.exists()


def test_nobody_else_sees_or_drives_my_import(client, alice, bob, lena, carol, word_file):
    client.force_login(alice)
    job = upload(client, word_file)
    for other in (bob, lena, carol):
        client.force_login(other)
        for name in ("import_preview", "import_status"):
            assert client.get(reverse(f"manuals:{name}", args=[job.pk])).status_code == 404
        for name in ("import_confirm", "import_cancel"):
            response = client.post(
                reverse(f"manuals:{name}", args=[job.pk]), {"destination": "new"}
            )
            assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == job.Status.READY


def test_i_cannot_import_into_a_colleagues_manual(client, alice_manual, bob, word_file):
    client.force_login(bob)
    job = upload(client, word_file)
    target = section_titled(alice_manual, "项目资料")
    page = client.get(reverse("manuals:import_preview", args=[job.pk])).content.decode()
    assert f'value="s{target.pk}"' not in page
    response = client.post(
        reverse("manuals:import_confirm", args=[job.pk]),
        {"destination": "existing", "target": f"s{target.pk}"},
    )
    assert response.status_code == 400
    assert not Section.objects.filter(parent=target).exists()


def run_worker() -> None:
    """The real database-backed worker, for the tasks waiting on the "imports" queue."""
    call_command("db_worker", "--batch", "--queue-name", "imports", "--no-startup-delay",
                 stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_large_document_imports_in_the_background_worker_with_progress(
    client, alice, word_file, monkeypatch
):
    monkeypatch.setattr(import_jobs, "INLINE_ANALYSE_BYTES", 1000)
    client.force_login(alice)
    job = upload(client, word_file)
    assert job.status == job.Status.ANALYSING
    page = client.get(reverse("manuals:import_preview", args=[job.pk])).content.decode()
    assert "正在分析文档" in page
    run_worker()
    job.refresh_from_db()
    assert job.status == job.Status.READY and job.summary["sections"] == 4
    response = client.post(reverse("manuals:import_confirm", args=[job.pk]), {"destination": "new"})
    assert response["Location"] == reverse("manuals:import_preview", args=[job.pk])
    job.refresh_from_db()
    assert job.status == job.Status.QUEUED
    status = client.get(reverse("manuals:import_status", args=[job.pk])).json()
    assert status["status"] == "queued" and status["percent"] == 0
    page = client.get(reverse("manuals:import_preview", args=[job.pk])).content.decode()
    assert "import-progress" in page

    run_worker()

    job.refresh_from_db()
    assert job.status == job.Status.DONE
    status = client.get(reverse("manuals:import_status", args=[job.pk])).json()
    assert status["percent"] == 100 and status["manual_url"] == f"/manual/{job.manual_id}/"
    assert outline_of(job.manual)[0] == (1, "第一章")


def test_downloads_in_every_format(client, alice, alice_manual):
    client.force_login(alice)
    url = reverse("manuals:export_manual", args=[alice_manual.pk, "docx"])
    response = client.get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert docx.Document(io.BytesIO(response.content)).paragraphs[0].text == "王丽的工作手册"
    markdown = client.get(reverse("manuals:export_manual", args=[alice_manual.pk, "md"]))
    assert "# 管理制度" in markdown.content.decode()
    archive = client.get(reverse("manuals:export_manual", args=[alice_manual.pk, "archive"]))
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(archive.content)).namelist()


def test_downloads_respect_who_may_read_what(client, alice_manual, alice, bob, lena, carol):
    shared = section_titled(alice_manual, "工作复盘")
    Section.objects.filter(pk=shared.pk).update(visibility=Section.Visibility.SHARED)
    client.force_login(bob)
    response = client.get(reverse("manuals:export_manual", args=[alice_manual.pk, "docx"]))
    texts = [p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs]
    assert "工作复盘" in texts and "管理制度" not in texts
    archive_url = reverse("manuals:export_manual", args=[alice_manual.pk, "archive"])
    assert client.get(archive_url).status_code == 404
    client.force_login(lena)  # the lead: what is shared with the lead, never the archive
    Section.objects.filter(pk=section_titled(alice_manual, "项目资料").pk).update(
        visibility=Section.Visibility.LEAD
    )
    response = client.get(reverse("manuals:export_manual", args=[alice_manual.pk, "docx"]))
    texts = [p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs]
    assert "工作复盘" in texts and "项目资料" in texts and "管理制度" not in texts
    assert client.get(archive_url).status_code == 404
    client.force_login(alice)
    assert client.get(archive_url).status_code == 200
    client.force_login(carol)
    for fmt in ("docx", "md", "archive"):
        url = reverse("manuals:export_manual", args=[alice_manual.pk, fmt])
        assert client.get(url).status_code == 404


def test_an_upload_left_at_the_preview_for_a_day_is_cleaned_up(client, alice, word_file):
    client.force_login(alice)
    old = upload(client, word_file)
    stored = old.file.path
    DocumentImport.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    upload(client, SimpleUploadedFile("b.md", "# 新的\n".encode()))
    old.refresh_from_db()
    assert old.status == old.Status.CANCELLED
    assert not os.path.exists(stored)


def test_the_preview_names_pictures_that_cannot_be_imported(client, alice, tmp_path):
    from PIL import Image as PILImage

    PILImage.new("RGB", (40, 40)).save(tmp_path / "scan.tiff", "TIFF")
    path = pandoc_docx(tmp_path, "# 扫描件\n\n![扫描](scan.tiff)\n")
    client.force_login(alice)
    job = upload(client, SimpleUploadedFile("扫描件.docx", path.read_bytes()))
    page = client.get(reverse("manuals:import_preview", args=[job.pk])).content.decode()
    assert "1 张图片无法导入" in page
    response = client.post(
        reverse("manuals:import_confirm", args=[job.pk]), {"destination": "new"}, follow=True
    )
    assert "已导入 1 个章节" in response.content.decode()
    manual = Manual.objects.get(owner=alice)
    assert "图片未能导入" in Section.objects.get(manual=manual, level=1).body
