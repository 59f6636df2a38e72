import io
import struct
import zlib

import pytest
from django.urls import reverse
from PIL import Image as PILImage

from manuals.images import pipeline as images
from manuals.images.pipeline import ImageRejected, image_html, store_image
from manuals.models import Image, Section
from manuals.sanitize import sanitize_html
from tests.conftest import PASSWORD, sign_in


def picture(fmt="JPEG", size=(640, 480), color=(200, 40, 40), mode="RGB", **save_kwargs) -> bytes:
    img = PILImage.new(mode, size, color)
    # Something that is not a flat colour, so orientation can be checked.
    for x in range(min(40, size[0])):
        for y in range(min(20, size[1])):
            img.putpixel((x, y), (0, 0, 255) if mode == "RGB" else (0, 0, 255, 255))
    out = io.BytesIO()
    img.save(out, fmt, **save_kwargs)
    return out.getvalue()


def exif_with_orientation_and_gps(orientation: int) -> bytes:
    exif = PILImage.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS
    return exif.tobytes()


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def opened(field) -> PILImage.Image:
    with field.open("rb") as handle:
        img = PILImage.open(io.BytesIO(handle.read()))
        img.load()
    return img


def test_a_phone_photo_is_turned_upright_and_loses_gps_and_camera_data(alice_manual, alice):
    data = picture(size=(400, 300), exif=exif_with_orientation_and_gps(6))
    stored = store_image(manual=alice_manual, data=data, original_name="IMG_0001.JPG", user=alice)
    img = opened(stored.file)
    # Orientation 6 = rotate 90° clockwise to view: landscape sensor data becomes portrait.
    assert (stored.width, stored.height) == (300, 400) == img.size
    assert img.getpixel((img.width - 5, 5))[2] > 200  # blue corner moved to the top right
    assert not img.getexif()
    assert "exif" not in img.info and "icc_profile" not in img.info
    with stored.file.open("rb") as handle:
        raw = handle.read()
    assert b"PhoneMaker" not in raw and b"Exif" not in raw
    assert stored.uploaded_by == alice and stored.original_name == "IMG_0001.JPG"
    assert stored.size_bytes == len(raw)


def test_the_real_format_counts_not_the_file_name(alice_manual):
    stored = store_image(manual=alice_manual, data=picture("PNG"), original_name="photo.jpg")
    assert opened(stored.file).format in {"PNG", "JPEG"}
    with pytest.raises(ImageRejected) as refused:
        store_image(manual=alice_manual, data=b"#!/bin/sh\nrm -rf /\n", original_name="a.png")
    assert "JPEG" in str(refused.value) and "PNG" in str(refused.value)
    assert not Image.objects.filter(original_name="a.png").exists()


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "PDF"])
def test_formats_outside_the_list_are_refused_even_if_pillow_reads_them(alice_manual, fmt):
    with pytest.raises(ImageRejected):
        store_image(manual=alice_manual, data=picture(fmt), original_name="x.jpg")


def test_a_decompression_bomb_is_refused_before_decoding(alice_manual):
    bomb = png_header_only(100_000, 100_000)
    with pytest.raises(ImageRejected) as refused:
        store_image(manual=alice_manual, data=bomb, original_name="bomb.png")
    assert "像素" in str(refused.value)


def test_a_canvas_over_the_pixel_limit_is_refused(alice_manual, monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 1000 * 1000)
    with pytest.raises(ImageRejected) as refused:
        store_image(manual=alice_manual, data=picture(size=(1200, 1000)), original_name="a.jpg")
    assert "1200 × 1000" in str(refused.value)


def test_an_oversize_file_is_refused_with_its_size(alice_manual, monkeypatch):
    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 2 * 1024 * 1024)
    with pytest.raises(ImageRejected) as refused:
        store_image(manual=alice_manual, data=b"\xff" * (3 * 1024 * 1024), original_name="a.jpg")
    assert "2 MB" in str(refused.value) and "3.0 MB" in str(refused.value)


def test_a_truncated_photo_is_refused_as_broken(alice_manual):
    import weasyprint  # noqa: F401  (it tells Pillow to accept truncated files, globally)

    data = picture(size=(800, 600), quality=95)
    with pytest.raises(ImageRejected) as refused:
        store_image(manual=alice_manual, data=data[: len(data) // 3], original_name="cut.jpg")
    assert "损坏" in str(refused.value)


def test_photos_are_shrunk_to_print_size_and_get_a_thumbnail(alice_manual):
    stored = store_image(manual=alice_manual, data=picture(size=(4000, 3000)), original_name="b")
    assert (stored.width, stored.height) == (2400, 1800)
    thumb = opened(stored.thumbnail)
    assert max(thumb.size) == 320


def test_gif_keeps_its_first_frame_and_webp_is_accepted(alice_manual):
    frames = [PILImage.new("RGB", (60, 40), c) for c in [(255, 0, 0), (0, 255, 0)]]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    gif = store_image(manual=alice_manual, data=out.getvalue(), original_name="anim.gif")
    first = opened(gif.file).convert("RGB").getpixel((30, 20))
    assert first[0] > 200 and first[1] < 50
    webp = store_image(manual=alice_manual, data=picture("WEBP"), original_name="w.webp")
    assert (webp.width, webp.height) == (640, 480)


def test_transparency_is_kept_as_png(alice_manual):
    data = picture("PNG", mode="RGBA", color=(0, 0, 0, 0))
    stored = store_image(manual=alice_manual, data=data, original_name="logo.png")
    assert opened(stored.file).mode == "RGBA"
    assert stored.file.name.endswith(".png")


def test_the_same_picture_twice_is_stored_once(alice_manual):
    data = picture()
    first = store_image(manual=alice_manual, data=data, original_name="a.jpg")
    again = store_image(manual=alice_manual, data=data, original_name="a-copy.jpg")
    assert first.pk == again.pk
    cover = store_image(manual=alice_manual, data=data, original_name="c", purpose="cover")
    assert cover.pk != first.pk


def test_inserted_markup_survives_the_sanitiser(alice_manual):
    stored = store_image(manual=alice_manual, data=picture(), original_name="a", caption="工单截图")
    html = image_html(stored, layout="side")
    assert sanitize_html(html) == html
    assert f'src="/images/{stored.pk}/"' in html and "<figcaption>工单截图</figcaption>" in html


# --- views ---------------------------------------------------------------------------


def login(client, user):
    assert sign_in(client, user.username, PASSWORD)
    return client


def upload(client, manual, data, name="photo.jpg", **extra):
    url = reverse("manuals:image_upload", args=[manual.pk])
    return client.post(url, {"file": _named(data, name), **extra})


def _named(data, name):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_the_owner_uploads_and_teammates_see_it_but_other_teams_get_404(
    client, alice, bob, carol, alice_manual
):
    response = upload(login(client, alice), alice_manual, picture(), caption="退款页面")
    assert response.status_code == 201
    body = response.json()
    assert body["caption"] == "退款页面" and body["url"] == f"/images/{body['id']}/"
    served = client.get(body["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert client.get(body["thumb_url"]).status_code == 200
    library = client.get(reverse("manuals:image_library", args=[alice_manual.pk])).json()
    assert [i["id"] for i in library["images"]] == [body["id"]]

    client.logout()
    login(client, bob)
    # A teammate sees a picture only where a section he may read shows it.
    assert client.get(body["url"]).status_code == 404  # not in any section yet
    section = Section.objects.get(manual=alice_manual, title="考勤制度")
    Section.objects.filter(pk=section.pk).update(body=f"<p>见图</p>{body['html']}")
    assert client.get(body["url"]).status_code == 404  # in a private section
    Section.objects.filter(pk=section.pk).update(visibility="shared")
    assert client.get(body["url"]).status_code == 200  # in a shared one
    assert client.get(body["thumb_url"]).status_code == 200
    assert upload(client, alice_manual, picture()).status_code == 404  # not a writer
    library_url = reverse("manuals:image_library", args=[alice_manual.pk])
    assert client.get(library_url).status_code == 404

    client.logout()
    login(client, carol)
    assert client.get(body["url"]).status_code == 404
    assert client.get(body["thumb_url"]).status_code == 404

    client.logout()
    assert client.get(body["url"]).status_code == 302  # to the login page


def test_a_rejected_upload_explains_why_and_stores_nothing(client, alice, alice_manual):
    login(client, alice)
    response = upload(client, alice_manual, b"not an image", name="x.png")
    assert response.status_code == 400
    assert "只支持" in response.json()["error"]
    assert not Image.objects.exists()


def test_an_upload_without_a_file_or_by_get_is_refused(client, alice, alice_manual):
    login(client, alice)
    url = reverse("manuals:image_upload", args=[alice_manual.pk])
    assert client.post(url, {}).status_code == 400
    assert client.get(url).status_code == 405


def test_a_missing_file_on_disk_is_a_404_not_a_crash(client, alice, alice_manual):
    stored = store_image(manual=alice_manual, data=picture(), original_name="a")
    stored.file.delete(save=False)
    login(client, alice)
    assert client.get(reverse("manuals:image", args=[stored.pk])).status_code == 404
