"""WeasyPrint may fetch our theme files and this manual's pictures, nothing else."""

import pytest
from django.conf import settings

from manuals.models import Section
from manuals.tree import SectionContent, add_section, create_manual
from printing.booklet import BookletOptions, assemble_booklet
from printing.fetcher import BookletURLFetcher, RefusedURL
from printing.render import render_booklet_pdf
from printing.theming import get_theme
from tests.printing.conftest import page_texts, picture_bytes


@pytest.fixture
def fetcher(tmp_path):
    media = tmp_path / "media" / "manuals" / "7"
    media.mkdir(parents=True)
    (media / "ok.jpg").write_bytes(b"\xff\xd8jpeg")
    return BookletURLFetcher([get_theme("plain").path, media])


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///proc/self/environ",
        "http://127.0.0.1:8000/admin/",
        "https://169.254.169.254/latest/meta-data/",
        "http://example.org/x.png",
        "ftp://example.org/x.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "file://otherhost/etc/passwd",
    ],
)
def test_the_fetcher_refuses_everything_outside_our_files(fetcher, url):
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_refuses_escapes_out_of_an_allowed_folder(fetcher, tmp_path):
    theme = get_theme("plain").path
    with pytest.raises(RefusedURL):
        fetcher.fetch(theme.as_uri() + "/../../../config/settings.py")
    (tmp_path / "media" / "manuals" / "7" / "link.txt").symlink_to("/etc/passwd")
    with pytest.raises(RefusedURL):
        fetcher.fetch((tmp_path / "media" / "manuals" / "7" / "link.txt").as_uri())


def test_the_fetcher_serves_theme_files_and_this_manuals_pictures(fetcher, tmp_path):
    svg = fetcher.fetch((get_theme("plain").path / "rule.svg").as_uri())
    assert svg.read().startswith(b"<svg") and svg.content_type == "image/svg+xml"
    jpeg = fetcher.fetch((tmp_path / "media" / "manuals" / "7" / "ok.jpg").as_uri())
    assert jpeg.read() == b"\xff\xd8jpeg"


def test_hostile_html_prints_without_fetching_anything(alice, carol, tmp_path):
    from manuals.images.pipeline import store_image

    other = create_manual(owner=carol, title="别人的手册")
    secret = store_image(manual=other, data=picture_bytes(), original_name="secret.jpg")
    manual = create_manual(owner=alice, title="手册")
    add_section(
        manual=manual,
        content=SectionContent(
            title="恶意内容",
            body=(
                '<p>正文</p><img src="/etc/passwd" alt="密码文件">'
                '<img src="/../../etc/shadow">'
                '<img src="http://10.0.0.1/x.png" alt="内网">'
                f'<img src="/images/{secret.pk}/" alt="别人的图">'
                '<p style="background: url(file:///etc/passwd)">样式</p>'
                "<table><tr><td>表格</td></tr></table>"
            ),
        ),
    )
    booklet = assemble_booklet(manual=manual, options=BookletOptions())
    result = render_booklet_pdf(booklet=booklet, out_path=tmp_path / "x.pdf")
    text = "".join(page_texts(result.path))
    assert "root:" not in text
    assert text.count("图片缺失") == 3  # each one shown as missing, with its alt text
    # another team's picture never even reached the body: a note says it is not available
    stored = Section.objects.get(manual=manual, title="恶意内容").body
    assert "图片不可用" in text and f"/images/{secret.pk}/" not in stored
    assert result.refused_urls == []  # nothing even reached the fetcher
    html = "".join(c.html for c in booklet.chapters)
    assert "/etc/" not in html and "10.0.0.1" not in html and str(settings.MEDIA_ROOT) not in html
