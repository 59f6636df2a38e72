"""A write PostgreSQL aborts to break a deadlock is run again, once, not shown as an error."""

import pytest
from django.db import OperationalError, connection

from manuals import tree
from manuals.circulation.handover import set_archived, transfer_manual
from manuals.documents.importing import import_document, read_document
from manuals.integrity import check_trees
from manuals.models import Activity, Manual, Revision, Section
from manuals.tree import SectionContent, save_section_content
from tests.conftest import section_titled

# The retry only runs outside an outer transaction, as in production requests.
pytestmark = pytest.mark.django_db(transaction=True)


class DeadlockDetected(Exception):
    sqlstate = "40P01"


class FirstWriteDeadlocks:
    """Makes the database abort the first write statement it sees with PostgreSQL's
    "deadlock detected", as the victim of a real deadlock would be; later ones pass."""

    def __init__(self):
        self.aborted = 0

    def __call__(self, execute, sql, params, many, context):
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if self.aborted == 0 and verb in {"INSERT", "UPDATE", "DELETE"}:
            self.aborted += 1
            raise OperationalError("deadlock detected") from DeadlockDetected()
        return execute(sql, params, many, context)


def test_an_edit_aborted_by_a_deadlock_is_saved_exactly_once(alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    revisions = Revision.objects.filter(section=section).count()
    aborted = FirstWriteDeadlocks()
    with connection.execute_wrapper(aborted):
        saved = save_section_content(
            section=section, expected_version=section.version, user=alice,
            content=SectionContent(title="考勤制度", body="<p>迟到三次扣绩效</p>"),
        )  # fmt: skip
    assert aborted.aborted == 1
    section.refresh_from_db()
    assert section.body == "<p>迟到三次扣绩效</p>" and saved.version == section.version
    assert Revision.objects.filter(section=section).count() == revisions + 1


def test_other_database_errors_are_not_retried(alice, alice_manual):
    section = section_titled(alice_manual, "考勤制度")
    writes = []

    def disk_error(execute, sql, params, many, context):
        if sql.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(sql)
            raise OperationalError("disk I/O error")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(disk_error), pytest.raises(OperationalError):
        save_section_content(
            section=section, expected_version=section.version, user=alice,
            content=SectionContent(title="考勤制度", body="<p>改动</p>"),
        )  # fmt: skip
    assert len(writes) == 1  # tried once, not again
    section.refresh_from_db()
    assert section.body != "<p>改动</p>"


def _move(alice, manual):
    tree.move_section(
        section=section_titled(manual, "项目资料"),
        target=section_titled(manual, "管理制度"),
        position="left",
        user=alice,
    )
    return lambda: [s.title for s in manual.outline()][0] == "项目资料"


def _shift(alice, manual):
    tree.shift_section(section=section_titled(manual, "学习工具"), direction="up", user=alice)
    titles = [s.title for s in Section.objects.filter(manual=manual, level=1).order_by("lft")]
    return lambda: titles[-2:] == ["学习工具", "项目资料"]


def _trash(alice, manual):
    tree.trash_section(section=section_titled(manual, "考勤制度"), user=alice)
    return lambda: section_titled(manual, "考勤制度").trashed_at is not None


WRITES = {"move": _move, "shift": _shift, "trash": _trash}


@pytest.mark.parametrize("write", [*sorted(WRITES), "restore", "purge"])
def test_tree_writes_aborted_by_a_deadlock_run_again(write, alice, alice_manual):
    aborted = FirstWriteDeadlocks()
    if write in {"restore", "purge"}:
        # The deadlock hits the step under test, not the trashing that prepares it.
        section = section_titled(alice_manual, "考勤制度")
        tree.trash_section(section=section, user=alice)
        with connection.execute_wrapper(aborted):
            if write == "restore":
                tree.restore_section(section=section_titled(alice_manual, "考勤制度"), user=alice)
                assert section_titled(alice_manual, "考勤制度").trashed_at is None
            else:
                tree.purge_section(section=section_titled(alice_manual, "考勤制度"), user=alice)
                assert not Section.objects.filter(manual=alice_manual, title="考勤制度").exists()
    else:
        with connection.execute_wrapper(aborted):
            done = WRITES[write](alice, alice_manual)
        assert done()
    assert aborted.aborted == 1
    assert check_trees() == []


def test_archiving_and_transferring_a_manual_survive_a_deadlock(lena, alice, bob, alice_manual):
    for run in (
        lambda: set_archived(manual=alice_manual, archived=True, user=lena),
        lambda: transfer_manual(manual=alice_manual, successor=bob, user=lena),
    ):
        aborted = FirstWriteDeadlocks()
        with connection.execute_wrapper(aborted):
            run()
        assert aborted.aborted == 1
    alice_manual.refresh_from_db()
    assert alice_manual.owner == bob and alice_manual.archived_at is not None
    # Each action is logged once, not once per attempt.
    assert Activity.objects.filter(from_manual=alice_manual).count() == 2


def test_an_import_aborted_by_a_deadlock_is_imported_once(alice, tmp_path):
    source = tmp_path / "笔记.md"
    source.write_text("# 退款规则\n\n七天无理由。\n\n## 例外\n\n定制商品。\n", encoding="utf-8")
    parsed = read_document(source)
    aborted = FirstWriteDeadlocks()
    with connection.execute_wrapper(aborted):
        manual = import_document(parsed=parsed, owner=alice, title="导入的笔记")
    assert aborted.aborted == 1
    assert Manual.objects.filter(owner=alice, title="导入的笔记").count() == 1
    assert [s.title for s in manual.outline()] == ["退款规则", "例外"]
