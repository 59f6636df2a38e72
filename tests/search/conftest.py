import pytest

from search import backends
from tests.searching import committed_and_indexed


@pytest.fixture
def fresh_index(db):
    """Build the index from whatever the test created so far; call again after changes."""

    def build():
        backends.current().rebuild()

    build()
    return build


@pytest.fixture
def committed(db):
    """Run the on-commit callbacks of what the test does inside, then index what they
    queued as the search worker would (``tests.searching``)."""
    return committed_and_indexed


@pytest.fixture(scope="module")
def postgres_default_database(postgres_url, django_db_setup, django_db_blocker):
    """For the module's tests, the default database is a real PostgreSQL (migrated once);
    each test still runs in a transaction that is rolled back."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connections

    from config.settings import database_from_url

    def use(settings_dict) -> None:
        connections["default"].close()
        connections.settings["default"] = settings_dict
        del connections["default"]
        ContentType.objects.clear_cache()  # ids differ from one database to the other

    with django_db_blocker.unblock():
        sqlite = connections.settings["default"]
        pg = {**database_from_url(postgres_url), "CONN_MAX_AGE": 0}
        use(connections.configure_settings({"default": pg})["default"])
        try:
            call_command("migrate", verbosity=0, interactive=False)
            yield
        finally:
            use(sqlite)


@pytest.fixture(scope="module", params=["whoosh", "postgres"])
def search_engine(request):
    """The engine the module's tests search with (PostgreSQL: on a PostgreSQL database)."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_default_database")
    return request.param


@pytest.fixture
def engine_settings(search_engine, settings):
    settings.SEARCH_ENGINE = search_engine
    return search_engine
