import pytest

from manuals.team_templates.cloning import clone_template
from manuals.team_templates.default_template import ensure_default_template


@pytest.fixture
def template(lena):
    """The team's default template, as the lead sees it."""
    return ensure_default_template(team=lena.member.team)


@pytest.fixture
def alice_clone(template, alice):
    return clone_template(template=template, owner=alice)
