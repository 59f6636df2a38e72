"""Every theme renders; one page of each goes to PNG so a person can look at it."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image as PILImage
from PIL import ImageStat

from printing.booklet import BookletOptions, assemble_booklet
from printing.print_images import FILTERS, apply_style
from printing.render import render_booklet_pdf
from printing.theming import available_themes
from tests.printing.conftest import page_texts, picture_bytes, toc_numbers


def preview_dir() -> Path:
    """Where the previews stay after the test run (var/print-previews by default)."""
    default = Path(settings.BASE_DIR) / "var" / "print-previews"
    path = Path(os.environ.get("LANBITOU_PREVIEW_DIR", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def to_png(pdf: Path, page: int, out: Path) -> PILImage.Image:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", "-f", str(page), "-l", str(page),
         str(pdf), str(out.with_suffix(""))],
        check=True,
    )  # fmt: skip
    return PILImage.open(out)


def test_the_three_themes_a_designer_can_copy_are_there():
    themes = available_themes()
    assert {"plain", "ink-wash", "magazine"} <= set(themes)
    assert themes["ink-wash"].label == "水墨" and themes["ink-wash"].image_style == "ink-wash"


@pytest.mark.parametrize("theme", ["plain", "ink-wash", "magazine"])
def test_each_theme_prints_cover_contents_and_chapters(theme, illustrated_manual, tmp_path):
    booklet = assemble_booklet(manual=illustrated_manual, options=BookletOptions(theme=theme))
    result = render_booklet_pdf(booklet=booklet, out_path=tmp_path / f"{theme}.pdf")
    texts = page_texts(result.path)
    toc = dict(toc_numbers(texts[1:3]))
    assert "考勤制度" in texts[toc["考勤制度"] - 1]
    pages = {"cover": 1, "contents": 2, "opener": toc["管理制度"], "body": toc["质检标准"]}
    for name, number in pages.items():
        png = to_png(result.path, number, tmp_path / f"{theme}-{name}.png")
        shutil.copy(png.filename, preview_dir() / f"{theme}-{name}.png")
        stat = ImageStat.Stat(png.convert("L"))
        assert stat.stddev[0] > 5, f"{theme} {name} page is blank"
    if theme == "ink-wash":  # rice-paper tone, not white
        corner = to_png(result.path, 2, tmp_path / "c.png").convert("RGB").getpixel((3, 3))
        assert corner[0] > corner[2] + 5


@pytest.mark.parametrize("style", sorted(FILTERS))
def test_style_filters_change_a_copy_and_keep_the_original(style, illustrated_manual):
    import io

    from manuals.models import Image

    original = PILImage.open(io.BytesIO(picture_bytes())).convert("RGB")
    styled = apply_style(original, style)
    assert styled.size == original.size and styled.mode == "RGB"
    r, g, b = ImageStat.Stat(styled).mean
    if style in {"grayscale", "line-art"}:
        assert abs(r - g) < 2 and abs(g - b) < 2
    if style == "sepia":
        assert r > g > b
    if style == "line-art":
        assert ImageStat.Stat(styled.convert("L")).mean[0] > 180  # mostly paper
    photo = Image.objects.get(manual=illustrated_manual, original_name="p")
    before = Path(photo.file.path).read_bytes()
    from printing.print_images import print_copy

    copy = print_copy(image=photo, style=style)
    assert copy != Path(photo.file.path) and copy.is_file()
    assert Path(photo.file.path).read_bytes() == before
    with PILImage.open(copy) as img:
        img.save(preview_dir() / f"filter-{style}.png")
