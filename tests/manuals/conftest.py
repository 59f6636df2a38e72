import pytest

from manuals.cloning import clone_template
from manuals.default_template import ensure_default_template


@pytest.fixture
def template(lena):
    """The team's default template, as the lead sees it."""
    return ensure_default_template(team=lena.member.team)


@pytest.fixture
def alice_clone(template, alice):
    return clone_template(template=template, owner=alice)
