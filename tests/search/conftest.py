import pytest

from search.index import rebuild_index


@pytest.fixture
def fresh_index(db):
    """Build the index from whatever the test created so far; call again after changes."""

    def build():
        rebuild_index()

    build()
    return build


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the on-commit callbacks (the index writes) of what the test does inside."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
