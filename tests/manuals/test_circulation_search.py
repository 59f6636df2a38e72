"""Clones, copies, handovers, transfers and template updates keep the search index fresh."""

import pytest

from manuals.circulation.copying import copy_into_my_manual
from manuals.circulation.handover import MOVE, hand_over_subtree, set_archived, transfer_manual
from manuals.models import Section
from manuals.team_templates.cloning import clone_template
from manuals.team_templates.default_template import ensure_default_template
from manuals.team_templates.sync import accept_change
from manuals.tree import SectionContent, save_section_content
from search.index import check_index, rebuild_index
from search.results import search_sections
from tests.conftest import section_titled
from tests.searching import index_pending_like_the_worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_circulation_write_leaves_the_index_without_drift(alice, bob, bob_manual, lena):
    rebuild_index()
    template = ensure_default_template(team=lena.member.team)
    clone = clone_template(template=template, owner=alice)
    index_pending_like_the_worker()
    assert search_sections(user=alice, query="复盘表").total >= 1
    ts = section_titled(template, "术语表")
    ts = save_section_content(
        section=ts, expected_version=ts.version, user=lena,
        content=SectionContent(title="术语表", body="<p>青禾专用词：闪退工单</p>",
                               visibility="shared"),
    )  # fmt: skip
    copy = section_titled(clone, "术语表")
    accept_change(
        manual=clone, template_section_id=ts.pk, expected_template_version=ts.version,
        expected_version=copy.version, user=alice,
    )  # fmt: skip
    index_pending_like_the_worker()
    hits = search_sections(user=alice, query="闪退工单").hits
    assert {h.section_id for h in hits} >= {copy.pk}
    leave = section_titled(bob_manual, "请假流程")
    save_section_content(
        section=leave, expected_version=leave.version, user=bob,
        content=SectionContent(title="请假流程", body="<p>提前三天请假</p>", visibility="shared"),
    )  # fmt: skip
    copy_into_my_manual(source=leave, target_manual=clone, parent=None, user=alice)
    hand_over_subtree(
        section=section_titled(clone, "常用话术"), to_manual=bob_manual, mode=MOVE, user=alice
    )
    transfer_manual(manual=clone, successor=bob, user=lena)
    set_archived(manual=bob_manual, archived=True, user=lena)
    index_pending_like_the_worker()
    drift = check_index()
    assert drift.ok, drift
    mine = Section.objects.filter(manual=clone, title="请假流程").get()
    assert mine.pk in {h.section_id for h in search_sections(user=bob, query="提前三天").hits}
