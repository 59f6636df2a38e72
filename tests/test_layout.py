"""The house rules of the code layout that import-linter alone cannot see (README "Layout")."""

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORE_CONTRACT = "The core of manuals/ never imports a feature folder"


def _contract(name: str) -> dict:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in config["contracts"] if c["name"] == name)


def test_the_manuals_root_holds_the_core_only():
    """A new module at the root of manuals/ is either core (and listed in the contract, so
    it may not import features) or belongs in a feature folder."""
    listed = {m.removeprefix("manuals.") for m in _contract(CORE_CONTRACT)["source_modules"]}
    at_root = {p.stem for p in (REPO / "manuals").glob("*.py") if p.stem != "__init__"}
    at_root |= {
        p.name
        for p in (REPO / "manuals").iterdir()
        if p.is_dir() and (p / "__init__.py").exists()
        and p.name not in {"migrations", "locale"}
    }  # fmt: skip
    features = {m.removeprefix("manuals.") for m in _contract(CORE_CONTRACT)["forbidden_modules"]}
    assert at_root - features == listed


def test_every_feature_folder_is_forbidden_to_the_core():
    features = {m.removeprefix("manuals.") for m in _contract(CORE_CONTRACT)["forbidden_modules"]}
    folders = {
        p.parent.name for p in (REPO / "manuals").glob("*/apps.py")
    }  # each feature folder is an app for its commands and template tags
    assert folders == features


def test_nested_set_numbers_stay_in_the_tree_modules():
    """Everyone else asks Section.objects.subtree_of()/ancestors_of() and nest()."""
    allowed = {"manuals/models.py", "manuals/tree.py", "manuals/bulk.py", "manuals/integrity.py"}
    offenders = []
    for app in ("manuals", "search", "printing"):
        for path in (REPO / app).rglob("*.py"):
            rel = path.relative_to(REPO).as_posix()
            if rel in allowed or "/migrations/" in rel:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\b(lft|rght)\b", line):
                    offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == []


def test_tests_never_import_benchmarks():
    offenders = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "tests").rglob("*.py")
        if re.search(r"^\s*(from|import) bench\b", path.read_text(), re.M)
    ]
    assert offenders == []
