import pytest

from manuals.team_templates.cloning import clone_template
from manuals.team_templates.default_template import ensure_default_template
from tests.pgserver import postgres_bin_dir, running_postgres


@pytest.fixture
def template(lena):
    """The team's default template, as the lead sees it."""
    return ensure_default_template(team=lena.member.team)


@pytest.fixture
def alice_clone(template, alice):
    return clone_template(template=template, owner=alice)


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL server for the module's multi-process tests."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries are not installed (make test installs them)")
    with running_postgres(bin_dir) as url:
        yield url
