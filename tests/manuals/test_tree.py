import pytest

from manuals.integrity import check_trees
from manuals.models import Section
from manuals.tree import (
    MAX_DEPTH,
    SectionContent,
    TreeError,
    add_section,
    move_section,
    restore_section,
    shift_section,
    trash_section,
)
from tests.conftest import section_titled


def titles(manual):
    return [(s.level, s.title) for s in manual.outline()]


def test_a_new_manual_is_one_tree_with_its_chapters_in_order(alice_manual):
    assert titles(alice_manual)[:3] == [(1, "管理制度"), (2, "考勤制度"), (2, "质检标准")]
    assert Section.objects.filter(manual=alice_manual).values("tree_id").distinct().count() == 1
    assert check_trees() == []


def test_moving_a_chapter_keeps_its_subsections(alice_manual):
    chapter = section_titled(alice_manual, "工作复盘")
    move_section(section=chapter, target=section_titled(alice_manual, "学习工具"), position="right")
    outline = titles(alice_manual)
    assert outline[-4:] == [
        (1, "工作复盘"),
        (2, "2024-03 退款纠纷"),
        (3, "客户情绪"),
        (3, "我的处理"),
    ]
    assert check_trees() == []


def test_a_section_cannot_move_under_its_own_descendant(alice_manual):
    chapter = section_titled(alice_manual, "工作复盘")
    with pytest.raises(TreeError, match="子章节"):
        move_section(
            section=chapter, target=section_titled(alice_manual, "客户情绪"), position="last-child"
        )
    assert check_trees() == []


def test_a_section_cannot_move_into_another_persons_manual(alice_manual, bob_manual):
    with pytest.raises(TreeError):
        move_section(
            section=section_titled(alice_manual, "项目资料"),
            target=section_titled(bob_manual, "管理制度"),
            position="last-child",
        )
    assert check_trees() == []


def test_indent_and_outdent_follow_the_outline(alice_manual):
    tools = section_titled(alice_manual, "学习工具")
    shift_section(section=tools, direction="indent")
    assert section_titled(alice_manual, "学习工具").parent.title == "项目资料"
    shift_section(section=tools, direction="outdent")
    assert section_titled(alice_manual, "学习工具").level == 1


def test_nesting_deeper_than_the_limit_is_refused(alice_manual):
    parent = None
    with pytest.raises(TreeError, match="层级太深"):
        for depth in range(60):
            parent = add_section(
                manual=alice_manual, target=parent, content=SectionContent(title=f"第{depth}层")
            )
    assert Section.objects.filter(manual=alice_manual).order_by("-level")[0].level == MAX_DEPTH
    assert check_trees() == []


def test_trash_and_restore_bring_the_subtree_back_in_place(alice_manual):
    case = section_titled(alice_manual, "2024-03 退款纠纷")
    before = titles(alice_manual)
    trash_section(section=case)
    assert "客户情绪" not in [t for _, t in titles(alice_manual)]
    restore_section(section=case)
    assert titles(alice_manual) == before


def test_restore_goes_to_the_end_when_its_chapter_is_in_the_trash(alice_manual):
    case = section_titled(alice_manual, "2024-03 退款纠纷")
    trash_section(section=case)
    trash_section(section=section_titled(alice_manual, "工作复盘"))
    restore_section(section=case)
    assert titles(alice_manual)[-3:] == [(1, "2024-03 退款纠纷"), (2, "客户情绪"), (2, "我的处理")]
    assert check_trees() == []


def test_empty_and_overlong_titles_are_refused_with_a_message(alice_manual):
    with pytest.raises(TreeError, match="标题不能为空"):
        add_section(manual=alice_manual, content=SectionContent(title="   "))
    with pytest.raises(TreeError, match="标题太长"):
        add_section(manual=alice_manual, content=SectionContent(title="长" * 201))
