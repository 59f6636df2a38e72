"""Pictures into a manual's library: checked, normalised and made print-sized with Pillow.

Everything a user (or a .docx) hands us is hostile until proven otherwise: the file name
says nothing, the header may promise a 100,000 × 100,000 canvas, the EXIF block may hold
GPS coordinates. ``store_image`` checks the real format, refuses bombs before decoding,
applies the EXIF orientation, drops every metadata chunk by re-encoding the pixels, shrinks
photos to what a printed page can show and writes a thumbnail for the library panel.
"""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
import warnings
from collections.abc import Callable
from contextlib import contextmanager

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import ImageFile, ImageOps, UnidentifiedImageError

from manuals.models import Image, Manual

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# A phone photo is 12–50 MP; a canvas beyond this is a mistake or an attack.
MAX_PIXELS = getattr(settings, "LANBITOU_MAX_IMAGE_PIXELS", 60_000_000)
MAX_IMAGE_BYTES = getattr(settings, "LANBITOU_MAX_IMAGE_BYTES", 25 * 1024 * 1024)
# A4 at 300 dpi is 2480 × 3508: more pixels than that only make the PDF heavier.
PRINT_MAX_EDGE = 2400
THUMB_MAX_EDGE = 320
JPEG_QUALITY = 85
# Figure classes the sanitiser keeps (manuals/sanitize.py) and the print themes lay out.
FIGURE_LAYOUTS = ("full", "side", "float")


# Decoding holds the whole canvas in memory (a 60 MP picture is 180–240 MB): at most this
# many at once per process, the others wait their turn.
CONCURRENT_DECODES = getattr(settings, "LANBITOU_IMAGE_DECODES", 2)
_decoding = threading.BoundedSemaphore(CONCURRENT_DECODES)


class ImageRejected(Exception):
    """An upload we refuse; ``str()`` is a message for the user, in their language."""


def check_upload_size(size: int) -> None:
    """Refuse an oversize file before anyone reads it into memory."""
    if size > MAX_IMAGE_BYTES:
        raise ImageRejected(
            _("图片太大：最大 %(max)d MB，这个文件有 %(size).1f MB。")
            % {"max": MAX_IMAGE_BYTES // (1024 * 1024), "size": size / (1024 * 1024)}
        )


def _open_checked(data: bytes) -> PILImage.Image:
    if not data:
        raise ImageRejected(_("文件是空的，请重新选择图片。"))
    check_upload_size(len(data))
    try:
        # ``formats`` keeps Pillow from trying any other decoder (EPS, PSD, …) on our bytes.
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            img = PILImage.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (UnidentifiedImageError, PILImage.DecompressionBombWarning):
        raise ImageRejected(
            _("无法识别这个文件：只支持 JPEG、PNG、WebP 和 GIF 图片（按内容判断，不看扩展名）。")
        ) from None
    except PILImage.DecompressionBombError:
        raise ImageRejected(_("图片像素太多，可能是恶意文件，已拒绝。")) from None
    except (OSError, ValueError, SyntaxError):
        raise ImageRejected(_("图片文件已损坏，无法读取。")) from None
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageRejected(_("图片文件已损坏，无法读取。"))
    if width * height > MAX_PIXELS:
        raise ImageRejected(
            _("图片像素太多：%(w)d × %(h)d，最多 %(max)d 万像素。")
            % {"w": width, "h": height, "max": MAX_PIXELS // 10_000}
        )
    return img


@contextmanager
def _strict_loading():
    """Refuse truncated files even where WeasyPrint (imported for printing) has globally
    told Pillow to pad them with grey."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _decode(img: PILImage.Image, max_edge: int) -> PILImage.Image:
    """Pixels only, upright, in RGB or RGBA: no EXIF, ICC, XMP, comments or frames left.

    Never more than one full-size canvas: a JPEG is decoded at the smallest scale (1/2,
    1/4, 1/8) that still covers ``max_edge``, anything else is box-reduced by a whole
    factor straight after decoding, before the conversions that copy it. A 7,700 × 7,700
    PNG once took the process from 165 to 936 MB."""
    try:
        with warnings.catch_warnings(), _strict_loading():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            if getattr(img, "n_frames", 1) > 1:
                img.seek(0)
            if img.format == "JPEG":
                img.draft(img.mode, (max_edge, max_edge))
            img.load()
            upright = ImageOps.exif_transpose(_reduce(img, max_edge))
    except (OSError, ValueError, SyntaxError, EOFError, PILImage.DecompressionBombWarning):
        raise ImageRejected(_("图片文件已损坏，无法读取。")) from None
    has_alpha = upright.mode in {"RGBA", "LA", "PA"} or (
        upright.mode == "P" and "transparency" in upright.info
    )
    if has_alpha:
        rgba = upright.convert("RGBA")
        # Fully opaque "alpha" is common in screenshots; drop it so it can become a JPEG.
        if rgba.getchannel("A").getextrema()[0] == 255:
            return rgba.convert("RGB")
        return rgba
    return upright.convert("RGB")


def _reduce(img: PILImage.Image, max_edge: int) -> PILImage.Image:
    factor = max(img.size) // max_edge
    if factor < 2:
        return img
    if img.mode not in {"L", "LA", "RGB", "RGBA", "CMYK"}:
        transparent = img.mode in {"PA", "La"} or "transparency" in img.info
        img = img.convert("RGBA" if transparent else "RGB")
    return img.reduce(factor)


def _shrink(img: PILImage.Image, max_edge: int) -> PILImage.Image:
    if max(img.size) <= max_edge:
        return img.copy()
    copy = img.copy()
    copy.thumbnail((max_edge, max_edge), PILImage.Resampling.LANCZOS)
    return copy


def _encode(img: PILImage.Image, *, source_format: str) -> tuple[bytes, str]:
    """JPEG for photos, PNG for transparency and for screenshots/line drawings."""
    if img.mode == "RGBA":
        return _png(img), "png"
    jpeg = _jpeg(img)
    if source_format in {"JPEG"}:
        return jpeg, "jpg"
    # A lossless source is usually a screenshot: keep it sharp unless it really is a photo
    # saved as PNG (then the JPEG is several times smaller).
    png = _png(img)
    if len(jpeg) * 3 < len(png):
        return jpeg, "jpg"
    return png, "png"


def _jpeg(img: PILImage.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _png(img: PILImage.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def normalise_image(data: bytes, *, max_edge: int = PRINT_MAX_EDGE) -> tuple[bytes, str, tuple]:
    """Check and re-encode ``data``; returns (bytes, extension, (width, height)).

    Raises ImageRejected. Used by ``store_image`` and by anything else that must turn
    untrusted bytes into a clean picture.
    """
    img = _open_checked(data)
    source_format = img.format or ""
    with _decoding:
        pixels = _shrink(_decode(img, max_edge), max_edge)
        img.close()
    encoded, ext = _encode(pixels, source_format=source_format)
    return encoded, ext, pixels.size


def _thumbnail(data: bytes) -> tuple[bytes, str]:
    img = PILImage.open(io.BytesIO(data))
    img.load()
    thumb = _shrink(img, THUMB_MAX_EDGE)
    if thumb.mode == "RGBA":
        return _png(thumb), "png"
    out = io.BytesIO()
    thumb.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue(), "jpg"


def store_image(
    *,
    manual: Manual,
    data: bytes,
    original_name: str,
    purpose: str = Image.Purpose.SECTION,
    user=None,
    caption: str = "",
    before_write: Callable[[list[str]], None] | None = None,
) -> Image:
    """Check, normalise and save a picture into ``manual``'s library.

    ``before_write`` hears the names of the files about to be written (a background import
    journals them, so that files of an import whose worker was killed can be found).

    The same picture uploaded twice for the same purpose (same bytes, e.g. a .docx that
    uses one logo on every page) gives back the existing row instead of a copy.
    Raises ImageRejected with a message for the user.
    """
    if purpose not in Image.Purpose.values:
        raise ImageRejected(_("未知的图片用途。"))
    digest = hashlib.sha256(data).hexdigest()
    existing = Image.objects.filter(manual=manual, sha256=digest, purpose=purpose).first()
    if existing is not None and existing.file and existing.file.storage.exists(existing.file.name):
        return existing
    encoded, ext, (width, height) = normalise_image(data)
    thumb, thumb_ext = _thumbnail(encoded)
    stem = uuid.uuid4().hex
    image = Image(
        manual=manual,
        purpose=purpose,
        caption=(caption or "").strip()[:200],
        original_name=(original_name or "").strip()[-255:],
        width=width,
        height=height,
        size_bytes=len(encoded),
        sha256=digest,
        uploaded_by=user,
    )
    if before_write is not None:
        before_write(
            [image.file.field.generate_filename(image, f"{stem}.{ext}"),
             image.thumbnail.field.generate_filename(image, f"{stem}-thumb.{thumb_ext}")]
        )  # fmt: skip
    image.file.save(f"{stem}.{ext}", ContentFile(encoded), save=False)
    image.thumbnail.save(f"{stem}-thumb.{thumb_ext}", ContentFile(thumb), save=False)
    try:
        with transaction.atomic():
            image.save()
    except Exception:
        image.file.delete(save=False)
        image.thumbnail.delete(save=False)
        raise
    return image


def image_html(image: Image, *, layout: str = "", caption: str | None = None) -> str:
    """The markup section bodies use for a library picture (what the editor inserts)."""
    text = image.caption if caption is None else caption
    img = format_html(
        '<img src="{}" data-image-id="{}" alt="{}" width="{}" height="{}">',
        reverse("manuals:image", args=[image.pk]),
        image.pk,
        text,
        image.width,
        image.height,
    )
    if not layout and not text:
        return img
    if layout not in FIGURE_LAYOUTS:
        layout = ""
    figcaption = format_html("<figcaption>{}</figcaption>", text) if text else ""
    if layout:
        return format_html('<figure class="layout-{}">{}{}</figure>', layout, img, figcaption)
    return format_html("<figure>{}{}</figure>", img, figcaption)
