from django.urls import reverse

from manuals.models import ExcellentCase, Section
from tests.conftest import section_titled


def mark(client, manual, section, **data):
    url = reverse("manuals:mark_case", kwargs={"manual_id": manual.pk, "section_id": section.pk})
    return client.post(url, data)


def test_a_lead_marks_a_shared_case_and_the_team_finds_it(client, lena, bob, alice_manual):
    case = section_titled(alice_manual, "2024-03 退款纠纷")
    Section.objects.filter(pk=case.pk).update(visibility="shared", kind="retrospective")
    client.force_login(lena)
    mark(client, alice_manual, case, note="情绪安抚到位，72 小时结案")
    assert ExcellentCase.objects.get(section=case).marked_by == lena

    client.force_login(bob)
    page = client.get(reverse("manuals:casebook")).content.decode()
    assert "2024-03 退款纠纷" in page and "情绪安抚到位" in page
    section_page = client.get(
        reverse("manuals:section", kwargs={"manual_id": alice_manual.pk, "section_id": case.pk})
    ).content.decode()
    assert "优秀案例" in section_page
    assert 'name="note"' not in section_page  # only the lead curates


def test_a_case_shared_with_the_lead_stays_hidden_from_colleagues(client, lena, bob, alice_manual):
    case = section_titled(alice_manual, "质检标准")
    Section.objects.filter(pk=case.pk).update(visibility=Section.Visibility.LEAD)
    client.force_login(lena)
    mark(client, alice_manual, case, note="标准清楚")
    assert "质检标准" in client.get(reverse("manuals:casebook")).content.decode()
    client.force_login(bob)
    page = client.get(reverse("manuals:casebook")).content.decode()
    assert "质检标准" not in page and "标准清楚" not in page


def test_the_lead_cannot_mark_what_is_kept_to_oneself(client, lena, alice_manual):
    case = section_titled(alice_manual, "质检标准")  # 仅自己
    client.force_login(lena)
    url = reverse("manuals:mark_case", args=[alice_manual.pk, case.pk])
    assert client.post(url, {"note": "x"}).status_code == 404
    assert "质检标准" not in client.get(reverse("manuals:casebook")).content.decode()


def test_agents_cannot_mark_and_other_teams_get_404(client, alice, carol, alice_manual):
    case = section_titled(alice_manual, "质检标准")
    client.force_login(alice)
    mark(client, alice_manual, case)
    assert not ExcellentCase.objects.exists()
    client.force_login(carol)
    assert mark(client, alice_manual, case).status_code == 404
    assert not ExcellentCase.objects.exists()


def test_the_lead_can_take_a_case_out_again(client, lena, alice_manual):
    case = section_titled(alice_manual, "质检标准")
    client.force_login(lena)
    mark(client, alice_manual, case)
    mark(client, alice_manual, case, action="unmark")
    assert not ExcellentCase.objects.exists()
