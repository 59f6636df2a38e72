"""Every string marked for translation has an English translation.

The source strings are Simplified Chinese. ``make messages`` (Django's makemessages, which
also knows our ``_lazy`` alias) extracts them into the committed English catalogs:
manuals/locale/ for the manuals app, locale/ (LOCALE_PATHS) for everything else.

The completeness test runs the same extraction over a scratch copy of the project, so the
committed catalogs are merged with what the code says today. A string someone added or
reworded since the last ``make messages`` comes back untranslated (or fuzzy), and the
test names it and where it is used.
"""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# What `make messages` skips; the test copies everything else.
SKIPPED = {".venv", "var", ".git", "tests", "bench", "node_modules", "staticfiles"}
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-z]|%[a-z]")
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$")


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: ``fields`` (msgid, msgstr…), ``flags``, ``refs``."""
    entries: list[dict] = []
    entry: dict | None = None
    field = ""

    def needs_new(entry: dict | None) -> bool:
        return entry is None or any(key.startswith("msgstr") for key in entry["fields"])

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#~"):  # blank line or obsolete entry
            continue
        if line.startswith('"'):
            entry["fields"][field] += ast.literal_eval(line)
            continue
        match = KEYWORD.match(line)
        assert match or line.startswith("#"), f"{path}: cannot read {line!r}"
        if line.startswith("#") or match.group(1) in ("msgctxt", "msgid"):
            if needs_new(entry):
                entry = {"fields": {}, "flags": set(), "refs": []}
                entries.append(entry)
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            entry["refs"] += line[2:].split()
        elif not line.startswith("#"):
            field = match.group(1)
            entry["fields"][field] = ast.literal_eval(match.group(2))
    return [e for e in entries if e["fields"].get("msgid")]  # drop the header


def problems(path: Path) -> list[str]:
    """Untranslated, fuzzy or not-really-English entries, with where they are used."""
    found = []
    for entry in read_po(path):
        fields = entry["fields"]
        translations = [value for key, value in fields.items() if key.startswith("msgstr")]
        where = " ".join(entry["refs"][:2])
        if "fuzzy" in entry["flags"]:
            found.append(f"fuzzy: {fields['msgid']!r} ({where})")
        elif not translations or not all(translations):
            found.append(f"untranslated: {fields['msgid']!r} ({where})")
        elif any(HAN.search(text) for text in translations):
            found.append(f"Chinese left in the English text: {fields['msgid']!r} ({where})")
    return found


def english_catalogs(root: Path) -> dict[str, Path]:
    return {
        str(path.relative_to(root)): path
        for path in sorted(root.rglob("en/LC_MESSAGES/django.po"))
        if not set(path.relative_to(root).parts) & SKIPPED
    }


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, Path]:
    """The English catalogs as `make messages` would leave them for today's code."""
    copy = tmp_path_factory.mktemp("i18n") / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=lambda folder, names: [
            name
            for name in names
            if (Path(folder) == ROOT and name in SKIPPED)
            or name in ("__pycache__", ".pytest_cache", ".ruff_cache")
            or name.endswith((".mo", ".pyc"))
        ],
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "-v", "0",
         "--ignore", ".venv/*", "--ignore", "tests/*", "--ignore", "bench/*"],
        cwd=copy,
        env={"PATH": "/usr/bin:/bin", "LANBITOU_DATA_DIR": str(copy / "var"),
             "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=True,
        capture_output=True,
    )  # fmt: skip
    return english_catalogs(copy)


def test_the_english_catalogs_are_where_makemessages_puts_them(extracted):
    assert {"locale/en/LC_MESSAGES/django.po", "manuals/locale/en/LC_MESSAGES/django.po"} <= set(
        extracted
    )
    assert set(extracted) == set(english_catalogs(ROOT)), "run `make messages` and translate"


def test_every_string_marked_for_translation_has_english(extracted):
    missing = [
        f"{name}: {problem}" for name, path in extracted.items() for problem in problems(path)
    ]
    assert missing == [], "run `make messages`, then translate:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", sorted(english_catalogs(ROOT)))
def test_committed_catalog_is_complete(name):
    assert problems(ROOT / name) == []


@pytest.mark.parametrize("name", sorted(english_catalogs(ROOT)))
def test_translations_keep_every_placeholder(name):
    wrong = []
    for entry in read_po(ROOT / name):
        fields = entry["fields"]
        for key, text in fields.items():
            if not key.startswith("msgstr"):
                continue
            source = (
                fields["msgid_plural"] if key not in ("msgstr", "msgstr[0]") else fields["msgid"]
            )
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                wrong.append(f"{fields['msgid']!r} → {text!r}")
    assert wrong == []
    # msgfmt agrees (it also checks plural forms and the header).
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(ROOT / name)], check=True)


def test_english_is_served_from_these_catalogs(client, db):
    from django.utils import translation

    with translation.override("en"):
        assert translation.gettext("回收站") == "Trash"
        assert translation.gettext("标题不能为空。") == "The title cannot be empty."
        assert translation.ngettext("%(n)s 个章节", "%(n)s 个章节", 1) % {"n": 1} == "1 section"
        assert translation.ngettext("%(n)s 个章节", "%(n)s 个章节", 3) % {"n": 3} == "3 sections"


def test_our_scripts_strings_have_chinese():
    """Scripts write English msgids (the editor library's language); the Chinese UI gets them
    from manuals/locale/zh_Hans/LC_MESSAGES/djangojs.po, served by the JavaScript catalog."""
    catalog = ROOT / "manuals/locale/zh_Hans/LC_MESSAGES/djangojs.po"
    chinese = {e["fields"]["msgid"]: e["fields"].get("msgstr", "") for e in read_po(catalog)}
    asked = {
        msgid
        for script in (ROOT / "static").rglob("*.js")
        for msgid in re.findall(r'\b(?:_|gettext)\("([^"]+)"\)', script.read_text())
    }
    assert "Bold" in asked  # the editor toolbar's labels are found
    assert [m for m in sorted(asked) if not HAN.search(chinese.get(m, ""))] == []
