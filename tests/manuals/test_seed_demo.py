import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from manuals.integrity import check_trees
from manuals.models import Manual, Member, Section, Team
from tests.conftest import make_user, sign_in


def seed(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    return re.search(r"Password for all of them: (\S+)", output).group(1)


@pytest.mark.django_db
def test_seed_demo_creates_the_team_its_people_and_a_manual_per_agent():
    output = seed()
    team = Team.objects.get(name="售后一组")
    members = {m.user.username: m for m in Member.objects.filter(team=team)}
    assert set(members) == {"lena", "alice", "bob", "chen"}
    assert members["lena"].is_lead
    assert all(members[u].role == Member.Role.AGENT for u in ("alice", "bob", "chen"))
    assert all(re.search(r"[\u4e00-\u9fff]", m.display_name) for m in members.values())
    for username in ("lena", "alice", "bob", "chen"):
        assert re.search(rf"^\s+{username}\b", output, re.M), output
    for username in ("alice", "bob", "chen"):
        manual = Manual.objects.get(owner__username=username)
        chapters = [s.title for s in manual.outline() if s.level == 1]
        assert chapters == ["管理制度", "工作复盘", "项目资料", "学习工具"]
        assert max(s.level for s in manual.outline()) >= 3
    assert check_trees() == []


@pytest.mark.django_db
def test_every_agent_logs_in_with_the_printed_password(client):
    password = printed_password(seed())
    for username in ("lena", "alice", "bob", "chen"):
        assert sign_in(client, username, password), username
        client.logout()
    assert not sign_in(client, "alice", "wrong-password")


@pytest.mark.django_db
def test_an_agent_signs_in_through_the_login_page_and_finds_her_manual(client):
    password = printed_password(seed())
    response = client.post(
        reverse("login"), {"username": "alice", "password": password}, follow=True
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "alice"
    manual = Manual.objects.get(owner__username="alice")
    page = client.get(reverse("manuals:manual", kwargs={"manual_id": manual.pk}))
    html = page.content.decode()
    assert "王丽的工作手册" in html
    assert "双11 延迟发货投诉 TB20231105-8842" in html


@pytest.mark.django_db
def test_a_chosen_password_is_used_and_printed(client):
    output = seed("--password", "qinghe-2024!")
    assert printed_password(output) == "qinghe-2024!"
    assert sign_in(client, "chen", "qinghe-2024!")


@pytest.mark.django_db
def test_demo_manuals_read_like_real_ones():
    seed()
    alice_manual = Manual.objects.get(owner__username="alice")
    sections = {s.title: s for s in Section.objects.filter(manual=alice_manual)}
    case = sections["双11 延迟发货投诉 TB20231105-8842"]
    assert case.kind == Section.Kind.RETROSPECTIVE
    for heading in ("情况", "客户情绪", "我的处理", "结果", "经验教训"):
        assert f"<h3>{heading}</h3>" in case.body
    checklist = sections["Bug 升级清单"].body
    steps = ["复现", "提交研发", "跟进", "回归测试", "回复客户"]
    positions = [checklist.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "<ol>" in checklist
    text = "".join(s.body for s in sections.values())
    assert len(text) > 3000
    assert re.search(r"[A-Za-z]{3,}", text) and re.search(r"\d{4}", text)


@pytest.mark.django_db
def test_colleagues_see_shared_demo_sections_but_not_private_ones():
    seed()
    bob = get_user_model().objects.get(username="bob")
    alice_manual = Manual.objects.get(owner__username="alice")
    seen = {s.title for s in alice_manual.outline(user=bob)}
    assert "双11 延迟发货投诉 TB20231105-8842" in seen  # shared
    assert "工作复盘" in seen  # the path to a shared case
    assert "空气炸锅涂层脱落 TB20231218-3307" not in seen  # private
    lena = get_user_model().objects.get(username="lena")  # 仅自己 means the lead too
    assert "空气炸锅涂层脱落 TB20231218-3307" not in {
        s.title for s in alice_manual.outline(user=lena)
    }


@pytest.mark.django_db
def test_if_empty_leaves_an_existing_demo_alone_and_still_lists_the_logins():
    seed("--if-empty")
    counts = (Section.objects.count(), Manual.objects.count(), Member.objects.count())
    output = seed("--if-empty")
    assert (Section.objects.count(), Manual.objects.count(), Member.objects.count()) == counts
    assert "already exists" in output
    assert re.search(r"^\s+alice\b", output, re.M)
    assert check_trees() == []


@pytest.mark.django_db
def test_seeding_twice_without_if_empty_is_refused_and_changes_nothing():
    seed()
    count = Section.objects.count()
    with pytest.raises(CommandError, match="已经存在"):
        seed()
    assert Section.objects.count() == count


@pytest.mark.django_db
def test_a_taken_username_is_refused_before_anything_is_created():
    make_user("chen", Team.objects.create(name="售前二组"))
    with pytest.raises(CommandError, match="chen"):
        seed()
    assert not Team.objects.filter(name="售后一组").exists()
    assert Manual.objects.count() == 0
