"""Loads the demo team and manuals (``manage.py seed_demo``) through manuals.tree."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from manuals.demo.content import PEOPLE, TEAM_NAME, DemoPerson, DemoSection
from manuals.models import Manual, Member, Section, Team
from manuals.team_templates.default_template import ensure_default_template
from manuals.tree import SectionContent, TreeError, add_section, create_manual


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    manual: Manual | None


def demo_team_exists() -> bool:
    return Team.objects.filter(name=TEAM_NAME).exists()


def demo_logins() -> list[DemoLogin]:
    User = get_user_model()
    logins = []
    for person in PEOPLE:
        user = User.objects.filter(username=person.username).first()
        if user is None:
            continue
        manual = Manual.objects.filter(owner=user, is_template=False).order_by("pk").first()
        logins.append(DemoLogin(person.username, person.display_name, person.role, manual))
    return logins


def load_demo(*, password: str) -> list[DemoLogin]:
    """Create the team, its people and their manuals, all or nothing."""
    User = get_user_model()
    if demo_team_exists():
        raise TreeError(_("演示团队“%(team)s”已经存在。") % {"team": TEAM_NAME})
    taken = sorted(
        User.objects.filter(username__in=[p.username for p in PEOPLE]).values_list(
            "username", flat=True
        )
    )
    if taken:
        raise TreeError(
            _("这些用户名已被占用，无法创建演示数据：%(names)s") % {"names": ", ".join(taken)}
        )
    with transaction.atomic():
        team = Team.objects.create(name=TEAM_NAME)
        for person in PEOPLE:
            user = User.objects.create_user(username=person.username, password=password)
            Member.objects.create(
                user=user, team=team, role=person.role, display_name=person.display_name
            )
            if person.chapters:
                _build_manual(person, user)
        # The team template a new hire starts from (owned and curated by the lead).
        ensure_default_template(team=team)
    return demo_logins()


def _build_manual(person: DemoPerson, user) -> Manual:
    manual = create_manual(owner=user, title=person.manual_title)

    def add(parent: Section | None, items: tuple[DemoSection, ...]) -> None:
        for item in items:
            # Headings above a shared section are shared too, so colleagues see its path.
            shared = _shares_anything(item)
            visibility = Section.Visibility.SHARED if shared else Section.Visibility.PRIVATE
            section = add_section(
                manual=manual,
                target=parent,
                content=SectionContent(
                    title=item.title, body=item.body, kind=item.kind, visibility=visibility
                ),
                user=user,
            )
            add(section, item.children)

    add(None, person.chapters)
    return manual


def _shares_anything(item: DemoSection) -> bool:
    return item.shared or any(_shares_anything(child) for child in item.children)
