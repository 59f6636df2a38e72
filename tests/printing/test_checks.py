from printing import checks


def test_no_warning_when_harfbuzz_subset_and_cjk_fonts_are_installed():
    assert checks.check_print_dependencies(None) == []


def test_a_missing_harfbuzz_subset_is_reported_at_start(monkeypatch):
    monkeypatch.setattr(checks, "harfbuzz_subset_available", lambda: False)
    problems = checks.check_print_dependencies(None)
    assert [p.id for p in problems] == ["printing.W001"]
    assert "libharfbuzz-subset0" in problems[0].hint
