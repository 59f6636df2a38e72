import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image as PILImage

from manuals.images.pipeline import image_html, store_image
from manuals.integrity import check_trees
from manuals.models import Image, Manual, Revision, Section
from manuals.team_templates.cloning import CloneRefused, clone_template, start_my_manual
from manuals.team_templates.default_template import DEFAULT_OUTLINE, ensure_default_template
from manuals.tree import SectionContent, add_section, create_manual, trash_section
from tests.conftest import section_titled


def png_bytes(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (40, 30), color).save(out, "PNG")
    return out.getvalue()


def outline_of(manual):
    return [
        (s.level, s.title, s.kind)
        for s in Section.objects.filter(manual=manual, level__gt=0).order_by("lft")
    ]


def test_a_team_with_a_lead_gets_the_default_template_once(lena):
    first = ensure_default_template(team=lena.member.team)
    again = ensure_default_template(team=lena.member.team)
    assert first.pk == again.pk and first.is_template and first.owner == lena
    titles = [t for _l, t, _k in outline_of(first)]
    assert titles[:1] == ["管理制度"]
    for chapter in ["管理制度", "工作复盘", "项目资料", "学习工具"]:
        assert chapter in titles
    for starter in ["复盘表（复制后填写）", "问题升级清单（Bug 上报）", "每日工作记录", "术语表"]:
        assert starter in titles
    retro = section_titled(first, "复盘表（复制后填写）").body
    for part in ["情况", "客户情绪", "我是怎么做的", "结果", "经验教训"]:
        assert part in retro
    checklist = section_titled(first, "问题升级清单（Bug 上报）").body
    steps = ["复现", "上报研发", "跟进", "回归验证", "答复客户"]
    assert [checklist.index(s) for s in steps] == sorted(checklist.index(s) for s in steps)
    assert check_trees() == []


def test_cloning_copies_the_whole_outline_and_remembers_the_template(template, alice):
    manual = clone_template(template=template, owner=alice)
    assert manual.owner == alice and manual.template_id == template.pk
    assert not manual.is_template
    assert outline_of(manual) == outline_of(template)
    for copy in Section.objects.filter(manual=manual, level__gt=0).select_related(
        "template_section"
    ):
        assert copy.template_section.manual_id == template.pk
        assert copy.template_section.title == copy.title
        assert copy.body == copy.template_section.body
        assert copy.template_version == copy.template_section.version
        assert copy.revisions.count() == 1
    assert check_trees() == []


def test_cloning_leaves_the_template_untouched_and_trashed_sections_out(template, alice):
    glossary = section_titled(template, "术语表")
    trash_section(section=glossary)
    before = outline_of(template)
    manual = clone_template(template=template, owner=alice)
    assert "术语表" not in [t for _l, t, _k in outline_of(manual)]
    assert outline_of(template) == before
    assert check_trees() == []


def test_cloning_is_a_handful_of_queries_whatever_the_size(lena, alice):
    template = create_manual(owner=lena, title="大模板", is_template=True)
    chapter = add_section(manual=template, content=SectionContent(title="第一章"))
    for i in range(60):
        add_section(manual=template, target=chapter, content=SectionContent(title=f"节 {i}"))
    with CaptureQueriesContext(connection) as queries:
        clone_template(template=template, owner=alice)
    assert len(queries) < 30, [q["sql"][:80] for q in queries]


def test_images_are_duplicated_into_the_new_manual(lena, alice):
    template = create_manual(owner=lena, title="带图模板", is_template=True)
    image = store_image(manual=template, data=png_bytes(), original_name="流程图.png", user=lena)
    add_section(
        manual=template,
        content=SectionContent(title="流程", body=f"<p>看图：</p>{image_html(image)}"),
    )
    manual = clone_template(template=template, owner=alice)
    copy = section_titled(manual, "流程")
    new_image = Image.objects.get(manual=manual)
    assert new_image.pk != image.pk
    assert new_image.file.name != image.file.name
    assert new_image.file.read() == image.file.read()
    assert f'data-image-id="{new_image.pk}"' in copy.body
    assert f'src="/images/{new_image.pk}/"' in copy.body
    assert f'data-image-id="{image.pk}"' not in copy.body
    # The template's picture is still the template's.
    assert f'data-image-id="{image.pk}"' in section_titled(template, "流程").body


def test_another_teams_template_is_refused(template, carol):
    with pytest.raises(CloneRefused, match="其他团队"):
        clone_template(template=template, owner=carol)
    assert not Manual.objects.filter(owner=carol).exists()


def test_an_ordinary_manual_is_not_a_template(alice_manual, bob):
    with pytest.raises(CloneRefused, match="不是团队模板"):
        clone_template(template=alice_manual, owner=bob)


def test_an_archived_template_is_not_offered(template, alice):
    Manual.objects.filter(pk=template.pk).update(archived_at="2026-01-01T00:00:00Z")
    template.refresh_from_db()
    with pytest.raises(CloneRefused, match="已停用"):
        clone_template(template=template, owner=alice)


def test_a_team_without_a_lead_still_gets_the_default_content(alice):
    manual = start_my_manual(user=alice)
    assert manual.template_id is None
    titles = [t for _l, t, _k in outline_of(manual)]
    assert "复盘表（复制后填写）" in titles and len(titles) == len(DEFAULT_OUTLINE)
    assert Revision.objects.filter(section__manual=manual).count() == len(DEFAULT_OUTLINE)


def test_the_command_prints_the_new_manuals_id(template, alice, capsys):
    call_command("clone_template", str(template.pk), "--owner", "alice")
    new_id = int(capsys.readouterr().out.strip())
    manual = Manual.objects.get(pk=new_id)
    assert manual.owner == alice and manual.template_id == template.pk


def test_the_command_refuses_clearly(template, carol):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="其他团队"):
        call_command("clone_template", str(template.pk), "--owner", "carol")
    with pytest.raises(CommandError, match="no user"):
        call_command("clone_template", str(template.pk), "--owner", "nobody")


# --- the day-one views ---------------------------------------------------------------


def test_a_new_hire_sees_one_clear_action_and_lands_in_their_manual(client, lena, alice):
    client.force_login(alice)
    home = client.get(reverse("manuals:home")).content.decode()
    assert "从团队模板创建我的手册" in home
    response = client.post(reverse("manuals:start_manual"))
    manual = Manual.objects.get(owner=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("manuals:manual", kwargs={"manual_id": manual.pk})
    assert manual.template.owner == lena
    page = client.get(response["Location"]).content.decode()
    assert "复盘表（复制后填写）" in page
    assert "从团队模板创建我的手册" not in client.get(reverse("manuals:home")).content.decode()


def test_a_double_click_does_not_make_two_manuals(client, lena, alice):
    client.force_login(alice)
    client.post(reverse("manuals:start_manual"))
    client.post(reverse("manuals:start_manual"))
    assert Manual.objects.filter(owner=alice).count() == 1


def test_cloning_another_teams_template_by_url_is_not_found(client, template, carol):
    client.force_login(carol)
    response = client.post(reverse("manuals:clone_template", args=[template.pk]))
    assert response.status_code == 404
    assert not Manual.objects.filter(owner=carol).exists()


def test_cloning_a_colleagues_manual_by_url_is_not_found(client, alice_manual, bob):
    client.force_login(bob)
    response = client.post(reverse("manuals:clone_template", args=[alice_manual.pk]))
    assert response.status_code == 404


def test_clone_view_makes_a_manual_for_the_user(client, template, bob):
    client.force_login(bob)
    response = client.post(reverse("manuals:clone_template", args=[template.pk]))
    manual = Manual.objects.get(owner=bob)
    assert response["Location"].endswith(f"/manual/{manual.pk}/")


def test_start_needs_a_login(client):
    response = client.post(reverse("manuals:start_manual"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_demo_team_has_the_default_template_to_start_from(db):
    call_command("seed_demo", stdout=io.StringIO())
    template = Manual.objects.get(team__name="售后一组", is_template=True)
    assert template.owner.username == "lena"
    assert "每日工作记录" in [t for _l, t, _k in outline_of(template)]
    call_command("clone_template", str(template.pk), "--owner", "chen", stdout=io.StringIO())
    assert Manual.objects.filter(owner__username="chen", template=template).exists()
    assert check_trees() == []


def test_bulk_writes_still_sanitise_every_body(alice_manual, alice):
    from manuals.bulk import NewSection, insert_sections

    hostile = '<p onclick="x()">规则<script>alert(1)</script></p><img src="https://evil/x.png">'
    rows = insert_sections(
        manual=alice_manual, parent=None, user=alice, revision_note="导入",
        sections=[NewSection(depth=1, title="导入的章", body=hostile),
                  NewSection(depth=2, title="导入的节", body=hostile)],
    )  # fmt: skip
    for row in rows:
        stored = Section.objects.get(pk=row.pk)
        assert "规则" in stored.body
        for bad in ("script", "onclick", "evil"):
            assert bad not in stored.body
            assert bad not in stored.revisions.get().body
    assert check_trees() == []


def test_when_every_template_is_retired_a_new_hire_still_gets_the_default_content(template, alice):
    Manual.objects.filter(pk=template.pk).update(archived_at="2026-01-01T00:00:00Z")
    manual = start_my_manual(user=alice)
    assert manual.template_id is None
    assert Manual.objects.filter(is_template=True).count() == 1  # no template resurrected
    assert "术语表" in [t for _l, t, _k in outline_of(manual)]
