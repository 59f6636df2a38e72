"""Tree writes given objects loaded before someone else changed the manual."""

import pytest

from manuals.integrity import check_trees
from manuals.tree import (
    SectionContent,
    TreeError,
    add_section,
    move_section,
    purge_section,
    shift_section,
    trash_section,
)
from tests.conftest import section_titled


def test_shifting_a_section_trashed_since_the_page_loaded_is_refused(alice_manual, alice):
    section = section_titled(alice_manual, "质检标准")
    trash_section(section=section, user=alice)
    with pytest.raises(TreeError, match="回收站"):
        shift_section(section=section, direction="up", user=alice)
    assert check_trees() == []


def test_moving_a_section_purged_since_the_page_loaded_is_a_clear_refusal(alice_manual, alice):
    section = section_titled(alice_manual, "考勤制度")
    stale_copy = section_titled(alice_manual, "考勤制度")
    trash_section(section=section, user=alice)
    purge_section(section=section, user=alice)
    with pytest.raises(TreeError, match="已不存在"):
        move_section(
            section=stale_copy,
            target=section_titled(alice_manual, "学习工具"),
            position="last-child",
            user=alice,
        )
    assert check_trees() == []


def test_adding_under_a_trashed_chapter_says_it_is_in_the_trash(alice_manual, alice):
    chapter = section_titled(alice_manual, "项目资料")
    trash_section(section=chapter, user=alice)
    with pytest.raises(TreeError, match="回收站"):
        add_section(manual=alice_manual, target=chapter, content=SectionContent(title="新"))


def test_a_stale_object_with_old_bounds_moves_by_its_current_place(alice_manual, alice):
    chapter = section_titled(alice_manual, "学习工具")  # bounds as loaded now
    add_section(
        manual=alice_manual,
        target=section_titled(alice_manual, "管理制度"),
        position="first-child",
        content=SectionContent(title="新制度"),
    )  # shifts every later bound by 2
    move_section(
        section=chapter,
        target=section_titled(alice_manual, "管理制度"),
        position="left",
        user=alice,
    )
    assert [s.title for s in alice_manual.outline() if s.level == 1] == [
        "学习工具",
        "管理制度",
        "工作复盘",
        "项目资料",
    ]
    assert check_trees() == []
