"""A write PostgreSQL aborts to break a deadlock is run again, once, not shown as an error."""

import pytest
from django.db import OperationalError

from manuals.models import Revision
from manuals.tree import SectionContent, save_section_content
from tests.conftest import section_titled

# The retry only runs outside an outer transaction, as in production requests.
pytestmark = pytest.mark.django_db(transaction=True)


class DeadlockDetected(Exception):
    sqlstate = "40P01"


def aborted_once(real):
    calls = {"n": 0}

    def record(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("deadlock detected") from DeadlockDetected()
        return real(*args, **kwargs)

    return record, calls


def test_an_edit_aborted_by_a_deadlock_is_saved_exactly_once(alice, alice_manual, monkeypatch):
    import manuals.tree as tree

    section = section_titled(alice_manual, "考勤制度")
    revisions = Revision.objects.filter(section=section).count()
    record, calls = aborted_once(tree._record_revision)
    monkeypatch.setattr(tree, "_record_revision", record)
    saved = save_section_content(
        section=section, expected_version=section.version, user=alice,
        content=SectionContent(title="考勤制度", body="<p>迟到三次扣绩效</p>"),
    )  # fmt: skip
    assert calls["n"] == 2
    section.refresh_from_db()
    assert section.body == "<p>迟到三次扣绩效</p>" and saved.version == section.version
    assert Revision.objects.filter(section=section).count() == revisions + 1


def test_other_database_errors_are_not_retried(alice, alice_manual, monkeypatch):
    import manuals.tree as tree

    section = section_titled(alice_manual, "考勤制度")
    calls = {"n": 0}

    def broken(*args, **kwargs):
        calls["n"] += 1
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(tree, "_record_revision", broken)
    with pytest.raises(OperationalError):
        save_section_content(
            section=section, expected_version=section.version, user=alice,
            content=SectionContent(title="考勤制度", body="<p>改动</p>"),
        )  # fmt: skip
    assert calls["n"] == 1
    section.refresh_from_db()
    assert section.body != "<p>改动</p>"
