"""Start-up checks for printing: fast font subsetting and the CJK fonts."""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess

from django.core.checks import Warning as CheckWarning
from django.core.checks import register

# The names WeasyPrint's text.ffi tries, looked up with ctypes: importing WeasyPrint here
# would add most of a second to every print's start.
HARFBUZZ_SUBSET = (
    "libharfbuzz-subset.so.0",
    "libharfbuzz-subset.0.dylib",
    "libharfbuzz-subset-0.dll",
)


def harfbuzz_subset_available() -> bool:
    for name in (ctypes.util.find_library("harfbuzz-subset"), *HARFBUZZ_SUBSET):
        if not name:
            continue
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


def cjk_fonts_available() -> bool:
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(
        ["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=False
    ).stdout
    return "Noto Serif CJK SC" in found and "Noto Sans CJK SC" in found


@register("printing")
def check_print_dependencies(app_configs, **kwargs):
    problems = []
    if not harfbuzz_subset_available():
        problems.append(
            CheckWarning(
                "libharfbuzz-subset is missing: WeasyPrint falls back to fontTools, which "
                "subsets fonts 10-20x slower (large booklets may hit the time limit).",
                hint="Install the Debian package libharfbuzz-subset0 (make run does this).",
                id="printing.W001",
            )
        )
    if not cjk_fonts_available():
        problems.append(
            CheckWarning(
                "Noto CJK fonts are missing: printed Chinese would come out as empty boxes.",
                hint="Install the Debian package fonts-noto-cjk (make run does this).",
                id="printing.W002",
            )
        )
    return problems
