import json

import pytest
from django.core.management import CommandError, call_command

from manuals.models import Section
from search.index import rebuild_index
from tests.conftest import section_titled

pytestmark = pytest.mark.django_db


def test_rebuild_index_reports_progress(alice_manual, capsys):
    call_command("rebuild_index")
    out = capsys.readouterr().out
    assert "9/9 sections (100%)" in out
    assert "Indexed 9 sections" in out


def test_check_index_passes_then_fails_on_drift(alice_manual, capsys):
    rebuild_index()
    call_command("check_index")
    assert "matches" in capsys.readouterr().out
    # A write that bypassed the signals: the index no longer agrees with the database.
    Section.objects.filter(pk=section_titled(alice_manual, "考勤制度").pk).update(title="改过")
    with pytest.raises(CommandError):
        call_command("check_index")
    assert "out-of-date" in capsys.readouterr().out
    call_command("rebuild_index")
    call_command("check_index")


def test_check_index_fails_without_an_index(alice_manual):
    with pytest.raises(CommandError, match="rebuild_index"):
        call_command("check_index")


def test_search_command_prints_json_lines(alice_manual, capsys):
    rebuild_index()
    call_command("search", "客户", "--as", "alice", "--json")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["title"] for line in lines] == ["客户情绪"]
    line = lines[0]
    assert set(line) >= {"section_id", "manual_id", "title", "path", "snippet"}
    assert line["manual_id"] == alice_manual.pk
    assert line["path"] == ["工作复盘", "2024-03 退款纠纷"]
    assert "客户情绪的内容" in line["snippet"]


def test_search_command_plain_output_and_unknown_user(alice_manual, capsys):
    rebuild_index()
    call_command("search", "质检", "--as", "alice")
    out = capsys.readouterr().out
    assert "质检标准" in out and "1 sections" in out
    with pytest.raises(CommandError, match="nobody"):
        call_command("search", "质检", "--as", "nobody")
