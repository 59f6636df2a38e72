"""The home page: my manuals, the team's manuals with what they share, templates."""

import re

import pytest
from django.urls import reverse

from manuals.models import Section
from manuals.tree import trash_section
from tests.conftest import section_titled

pytestmark = pytest.mark.django_db


def test_the_shared_count_counts_live_chapters_only_not_the_root_or_the_trash(
    client, alice_manual, bob
):
    Section.objects.filter(manual=alice_manual).update(visibility="shared")  # the root too
    trash_section(section=section_titled(alice_manual, "学习工具"), user=alice_manual.owner)
    client.force_login(bob)
    html = client.get(reverse("manuals:home")).content.decode()
    # 9 sections, one of them in the trash; the hidden root is no section.
    assert re.search(r"\b8 个共享章节", html), re.findall(r"\d+ 个共享章节", html)
