import pytest

from search.index import rebuild_index


@pytest.fixture
def fresh_index(db):
    """Build the index from whatever the test created so far; call again after changes."""

    def build():
        rebuild_index()

    build()
    return build
