from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from manuals.models import Revision
from manuals.tree import SectionContent, add_section


def test_the_lead_sees_who_keeps_recording(client, lena, alice, bob, alice_manual, bob_manual):
    add_section(
        manual=alice_manual,
        content=SectionContent(title="2024-05 物流丢件复盘", kind="retrospective"),
        user=alice,
    )
    # bob last wrote six weeks ago.
    Revision.objects.filter(section__manual=bob_manual).update(
        author=bob, created_at=timezone.now() - timedelta(days=42)
    )
    client.force_login(lena)
    page = client.get(reverse("manuals:team")).content.decode()
    table = page.split('id="team-activity"')[1]
    assert table.index("李波") < table.index("王丽")  # the quiet one first
    alice_row = next(row for row in table.split("<tr") if "<td>王丽" in row)
    cells = [cell.split("</td>")[0] for cell in alice_row.split("<td>")[1:]]
    assert cells[4] == "1"  # one retrospective
    assert cells[6] != "0"  # edits in the last 30 days
    assert "42 天前" in table


def test_agents_and_other_teams_do_not_see_the_dashboard(client, alice, carol):
    for user in (alice, carol):
        client.force_login(user)
        assert client.get(reverse("manuals:team")).status_code == 404
