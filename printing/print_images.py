"""Style filters that give a booklet one look: applied to cached copies, never the original."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image as PILImage
from PIL import ImageChops, ImageFilter, ImageOps

from manuals.models import Image

STYLES = {
    "none": _("原图"),
    "ink-wash": _("水墨"),
    "sepia": _("怀旧（棕褐）"),
    "line-art": _("线描"),
    "grayscale": _("黑白"),
}


def print_images_dir() -> Path:
    return Path(settings.DATA_DIR) / "print-cache" / "images"


def _flatten(img: PILImage.Image) -> PILImage.Image:
    if img.mode in {"RGBA", "LA", "P"}:
        img = img.convert("RGBA")
        paper = PILImage.new("RGBA", img.size, (255, 255, 255, 255))
        return PILImage.alpha_composite(paper, img).convert("RGB")
    return img.convert("RGB")


def grayscale(img: PILImage.Image) -> PILImage.Image:
    return ImageOps.grayscale(_flatten(img)).convert("RGB")


def sepia(img: PILImage.Image) -> PILImage.Image:
    gray = ImageOps.autocontrast(ImageOps.grayscale(_flatten(img)), cutoff=1)
    return ImageOps.colorize(gray, black="#2b1d0e", white="#fbf1dc", mid="#a47a4a")


def line_art(img: PILImage.Image) -> PILImage.Image:
    gray = ImageOps.grayscale(_flatten(img)).filter(ImageFilter.GaussianBlur(1.2))
    edges = gray.filter(ImageFilter.FIND_EDGES)
    edges = ImageOps.autocontrast(edges, cutoff=2)
    lines = ImageOps.invert(edges).point(lambda v: 255 if v > 200 else int(v * 0.6))
    return lines.convert("RGB")


def ink_wash(img: PILImage.Image) -> PILImage.Image:
    """Light tonal washes in a few ink levels, with fine dark strokes along the edges."""
    gray = ImageOps.autocontrast(ImageOps.grayscale(_flatten(img)), cutoff=2)
    radius = max(1.5, min(gray.size) / 220)
    wash = gray.filter(ImageFilter.GaussianBlur(radius))
    # Diluted ink: the darkest wash is a mid grey, the page stays light.
    wash = wash.point(lambda v: 255 - int((255 - (v // 32) * 32) * 0.62))
    wash = wash.filter(ImageFilter.GaussianBlur(radius / 2))
    edges = gray.filter(ImageFilter.GaussianBlur(radius / 3)).filter(ImageFilter.FIND_EDGES)
    edges = ImageOps.autocontrast(edges, cutoff=1)
    strokes = ImageOps.invert(edges).point(lambda v: 255 if v > 170 else int(40 + v * 0.9))
    inked = ImageChops.multiply(wash, strokes)
    return ImageOps.colorize(inked, black="#15130f", white="#f7f2e8", mid="#8a847a")


FILTERS = {
    "grayscale": grayscale,
    "sepia": sepia,
    "line-art": line_art,
    "ink-wash": ink_wash,
}


def apply_style(img: PILImage.Image, style: str) -> PILImage.Image:
    if style not in FILTERS:
        return img
    return FILTERS[style](img)


def _copy_original(image: Image, target: Path) -> None:
    """The picture's bytes from its storage (a shared directory, a bucket) into ``target``."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as out, image.file.storage.open(image.file.name, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def print_copy(*, image: Image, style: str) -> Path:
    """The local file to print for ``image`` in ``style``; the library original is never
    touched, nor opened by path: its bytes are copied from storage into the print cache.

    Copies are content-addressed (sha256 of the upload + style) in a folder of the manual
    (a booklet's renderer may read only its own manual's), so they are made once.
    Raises OSError/FileNotFoundError when the original is gone or unreadable.
    """
    if not image.file:
        raise FileNotFoundError(f"picture {image.pk} has no file")
    target_dir = print_images_dir() / str(image.manual_id)
    target_dir.mkdir(parents=True, exist_ok=True)
    key = image.sha256 or f"image-{image.pk}"
    suffix = PurePosixPath(image.file.name).suffix.lower() or ".img"
    original = target_dir / f"{key}{suffix}"
    if original.is_file():
        os.utime(original)  # recently used: kept by prune_print_copies
    else:
        _copy_original(image, original)
    if style not in FILTERS:
        return original
    target = target_dir / f"{key}-{style}.jpg"
    if target.is_file():
        os.utime(target)
        return target
    with PILImage.open(original) as src:
        src.load()
        styled = apply_style(src, style)
    fd, tmp = tempfile.mkstemp(dir=target_dir, suffix=".jpg")
    with os.fdopen(fd, "wb") as handle:
        styled.save(handle, "JPEG", quality=85, optimize=True)
    os.replace(tmp, target)
    return target


def prune_print_copies(*, max_age_days: int = 45) -> int:
    """Forget copies no booklet used for a while (this machine's cache: every use refreshes
    a copy's time, and a picture deleted from its library is not printed again)."""
    cutoff = time.time() - max_age_days * 86400
    removed = 0
    for copy in print_images_dir().rglob("*"):
        try:
            if copy.is_file() and copy.stat().st_mtime < cutoff:
                copy.unlink()
                removed += 1
        except OSError:
            continue
    return removed
