"""Decoding a picture costs bounded memory, and only a few decode at once.

Before: one 170 KB PNG of 7,700 × 7,700 pixels took the web process from 165 to 936 MB,
and four at once reached 3.3 GB.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PIL import ImageDraw

from manuals.images.pipeline import normalise_image

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def huge_screenshot(tmp_path_factory) -> Path:
    """Under the 60 MP limit, so it is accepted; a few hundred KB on disk."""
    img = PILImage.new("RGB", (7700, 7700), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    for i in range(0, 7700, 400):
        draw.rectangle([i, i, i + 300, i + 200], fill=(200, 30, 30))
    path = tmp_path_factory.mktemp("pictures") / "huge.png"
    img.save(path, optimize=True)
    return path


def memory_of(path: Path, threads: int) -> float:
    """Peak memory (MB) a fresh process adds while normalising ``path`` in ``threads``."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.manuals.image_memory", str(path), str(threads)],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["errors"] == []
    return figures["peak"] - figures["before"]


def test_one_huge_picture_is_decoded_in_bounded_memory(huge_screenshot):
    assert huge_screenshot.stat().st_size < 400_000
    assert memory_of(huge_screenshot, 1) < 450


def test_four_huge_pictures_at_once_wait_for_their_turn(huge_screenshot):
    assert memory_of(huge_screenshot, 4) < 1000


def test_the_reduced_picture_is_still_print_sized_and_sharp(huge_screenshot):
    encoded, ext, (width, height) = normalise_image(huge_screenshot.read_bytes())
    assert (width, height) == (2400, 2400) and ext == "png"


def test_a_big_jpeg_is_decoded_at_a_smaller_scale_and_kept_upright(tmp_path):
    photo = PILImage.new("RGB", (6000, 4000), (30, 120, 200))
    exif = photo.getexif()
    exif[0x0112] = 6  # rotated: the camera was held upright
    path = tmp_path / "photo.jpg"
    photo.save(path, quality=85, exif=exif)
    _encoded, ext, (width, height) = normalise_image(path.read_bytes())
    assert ext == "jpg" and (width, height) == (1600, 2400)
