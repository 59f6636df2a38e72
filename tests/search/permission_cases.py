"""Nobody sees a result, a snippet or a count from a section they may not read."""

import json

import pytest
from django.core.management import call_command

from manuals.models import Section
from manuals.tree import SectionContent, add_section, create_manual, save_section_content
from search.index import writer_lock
from search.results import find_in_manual, search_sections
from tests.conftest import section_titled

SECRET = "机密口令ZX9"


@pytest.fixture
def manuals(alice_manual, bob_manual, carol, lena, fresh_index):
    private = add_section(
        manual=bob_manual,
        content=SectionContent(title="我的私房话", body=f"<p>{SECRET} 只给自己看</p>"),
    )
    shared = add_section(
        manual=bob_manual,
        content=SectionContent(
            title="共享经验",
            body=f"<p>大家都能看：{SECRET[:2]}</p>",
            visibility=Section.Visibility.SHARED,
        ),
    )
    carol_manual = create_manual(owner=carol, title="别组手册")
    add_section(
        manual=carol_manual,
        content=SectionContent(
            title="别组共享", body=f"<p>{SECRET}</p>", visibility=Section.Visibility.SHARED
        ),
    )
    fresh_index()
    return private, shared


def test_bobs_private_section_never_reaches_alice(manuals, alice):
    results = search_sections(user=alice, query=SECRET)
    assert results.total == 0
    assert results.hits == []
    assert results.agents == [] and results.manuals == []
    # The shared section matches the two-character prefix; the private one must not count.
    results = search_sections(user=alice, query="机密")
    assert [h.title for h in results.hits] == ["共享经验"]
    assert results.total == 1
    assert all(SECRET not in h.snippet_text for h in results.hits)


def test_only_the_owner_finds_a_section_kept_to_oneself(manuals, bob, lena):
    assert [h.title for h in search_sections(user=bob, query=SECRET).hits] == ["我的私房话"]
    results = search_sections(user=lena, query=SECRET)
    assert results.hits == [] and results.total == 0 and results.agents == []


def test_the_lead_finds_what_is_shared_with_the_lead(manuals, bob, lena, alice, committed):
    private, _shared = manuals
    with committed():
        save_section_content(
            section=private, expected_version=private.version, user=bob,
            content=SectionContent(title="我的私房话", body=f"<p>{SECRET} 给主管看</p>",
                                   visibility=Section.Visibility.LEAD),
        )  # fmt: skip
    assert [h.title for h in search_sections(user=lena, query=SECRET).hits] == ["我的私房话"]
    assert search_sections(user=alice, query=SECRET).hits == []


def test_other_team_sees_nothing_of_ours(manuals, carol):
    results = search_sections(user=carol, query=SECRET)
    assert [h.title for h in results.hits] == ["别组共享"]


def test_find_in_manual_counts_only_readable_sections(manuals, alice, bob, bob_manual):
    assert find_in_manual(user=alice, manual=bob_manual, query="机密").total == 1
    assert find_in_manual(user=bob, manual=bob_manual, query="机密").total == 2


def test_path_hides_private_ancestors(alice, bob, bob_manual, fresh_index):
    parent = section_titled(bob_manual, "管理制度")  # private chapter
    add_section(
        manual=bob_manual,
        target=parent,
        content=SectionContent(
            title="公开的小节", body="<p>团队规则</p>", visibility=Section.Visibility.SHARED
        ),
    )
    fresh_index()
    hit = search_sections(user=alice, query="团队规则").hits[0]
    assert hit.path == []
    assert search_sections(user=bob, query="团队规则").hits[0].path == ["管理制度"]


def test_search_command_respects_permissions(manuals, capsys):
    call_command("search", SECRET, "--as", "alice", "--json")
    assert capsys.readouterr().out.strip() == ""
    call_command("search", SECRET, "--as", "bob", "--json")
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["title"] for line in lines] == ["我的私房话"]


def test_template_sections_are_readable_by_agents(alice, lena, fresh_index):
    template = create_manual(owner=lena, title="团队模板", is_template=True)
    add_section(manual=template, content=SectionContent(title="模板章节", body="<p>标准话术</p>"))
    fresh_index()
    assert [h.title for h in search_sections(user=alice, query="标准话术").hits] == ["模板章节"]


def test_a_section_made_private_is_not_counted_while_its_index_update_waits(
    manuals, alice, bob, committed
):
    _private, shared = manuals
    assert search_sections(user=alice, query="机密").total == 1
    with writer_lock():  # the index is busy: the edit waits in the queue
        with committed():
            save_section_content(
                section=shared, expected_version=shared.version, user=bob,
                content=SectionContent(title="共享经验", body=shared.body),  # now 仅自己
            )  # fmt: skip
    results = search_sections(user=alice, query="机密")
    assert results.total == 0 and results.hits == [] and results.agents == []
    assert search_sections(user=bob, query="机密").total == 2  # the owner still finds both
