import pytest

from manuals.bulk import NewSection, insert_sections
from manuals.integrity import check_trees
from manuals.models import Revision, Section
from manuals.tree import MAX_DEPTH, SectionContent, TreeError, add_section, create_manual
from tests.conftest import section_titled


def outline(manual):
    return [(s.level, s.title) for s in manual.outline()]


def test_a_bulk_outline_lands_in_a_new_manual_in_document_order(alice):
    manual = create_manual(owner=alice, title="导入的手册")
    insert_sections(
        manual=manual,
        parent=None,
        sections=[
            NewSection(1, "第一章", "<p>一</p>"),
            NewSection(2, "1.1"),
            NewSection(3, "1.1.1"),
            NewSection(2, "1.2"),
            NewSection(1, "第二章"),
            NewSection(2, "2.1"),
        ],
        user=alice,
        revision_note="导入",
    )
    assert outline(manual) == [
        (1, "第一章"), (2, "1.1"), (3, "1.1.1"), (2, "1.2"), (1, "第二章"), (2, "2.1")
    ]  # fmt: skip
    assert check_trees() == []
    first = section_titled(manual, "第一章")
    assert first.body == "<p>一</p>"
    assert [c.title for c in first.get_children()] == ["1.1", "1.2"]
    assert Revision.objects.filter(section__manual=manual, note="导入").count() == 6


def test_a_bulk_outline_under_a_section_keeps_the_rest_of_the_tree(alice_manual, bob_manual):
    target = section_titled(alice_manual, "管理制度")
    insert_sections(
        manual=alice_manual,
        parent=target,
        sections=[NewSection(1, "新制度"), NewSection(2, "细则"), NewSection(1, "附录")],
    )
    assert outline(alice_manual)[:6] == [
        (1, "管理制度"), (2, "考勤制度"), (2, "质检标准"), (2, "新制度"), (3, "细则"), (2, "附录")
    ]  # fmt: skip
    assert outline(alice_manual)[6] == (1, "工作复盘")
    assert check_trees() == []
    # The tree still takes ordinary edits afterwards.
    add_section(manual=alice_manual, target=section_titled(alice_manual, "细则"),
                content=SectionContent(title="细则补充"))  # fmt: skip
    assert check_trees() == []
    assert outline(bob_manual) == [(1, "管理制度"), (2, "请假流程")]


def test_an_outline_with_a_gap_in_its_levels_is_refused_and_nothing_is_written(alice_manual):
    before = Section.objects.count()
    with pytest.raises(TreeError, match="层级不连续"):
        insert_sections(
            manual=alice_manual,
            parent=None,
            sections=[NewSection(1, "一"), NewSection(3, "三")],
        )
    assert Section.objects.count() == before
    assert check_trees() == []


def test_an_outline_deeper_than_a_manual_allows_is_refused(alice):
    manual = create_manual(owner=alice, title="深")
    with pytest.raises(TreeError, match="层级太深"):
        insert_sections(
            manual=manual,
            parent=None,
            sections=[NewSection(d, f"第{d}级") for d in range(1, MAX_DEPTH + 2)],
        )
    assert outline(manual) == []


def test_thousands_of_sections_are_written_in_batches_not_row_by_row(
    alice, django_assert_max_num_queries
):
    manual = create_manual(owner=alice, title="大")
    items = []
    for chapter in range(30):
        items.append(NewSection(1, f"章{chapter}"))
        for sub in range(50):
            items.append(NewSection(2, f"节{chapter}.{sub}"))
            items.append(NewSection(3, f"小节{chapter}.{sub}"))
    # SQLite takes ~50 rows per INSERT; row by row would be 6,000+ queries.
    with django_assert_max_num_queries(200):
        insert_sections(manual=manual, parent=None, sections=items, revision_note="导入")
    assert len(outline(manual)) == 3030
    assert check_trees() == []
