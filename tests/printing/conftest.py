import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from manuals.bulk import NewSection, insert_sections
from manuals.images.pipeline import store_image
from manuals.tree import create_manual


@pytest.fixture(autouse=True)
def print_dirs(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.EDITIONS_DIR = tmp_path / "data" / "editions"
    return settings.DATA_DIR


def page_texts(pdf: Path) -> list[str]:
    count = len(PdfReader(pdf).pages)
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout
        for n in range(1, count + 1)
    ]  # fmt: skip


def fonts(pdf: Path) -> list[dict]:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    rows = []
    for line in out.stdout.splitlines()[2:]:
        parts = line.split()
        # name type... encoding emb sub uni object ID
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def outline_titles(pdf: Path) -> list[tuple[int, str, int]]:
    """(depth, title, 1-based page) for every bookmark, in order."""
    reader = PdfReader(pdf)
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 1)
    return found


TOC_LINE = re.compile(r"^\s*(\S.*?)\s*(?:[.·…]\s*){2,}(\d+)\s*$")


def toc_numbers(texts: list[str]) -> list[tuple[str, int]]:
    entries = []
    for text in texts:
        for line in text.splitlines():
            match = TOC_LINE.match(line)
            if match:
                entries.append((match.group(1).strip(), int(match.group(2))))
    return entries


def picture_bytes(size=(900, 600), color=(40, 120, 200)) -> bytes:
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(img)
    for i in range(0, size[0], 60):
        draw.ellipse((i, size[1] // 3, i + 50, size[1] // 3 + 50), fill=(240, 200, 60))
    draw.rectangle((0, size[1] * 2 // 3, size[0], size[1]), fill=(60, 90, 40))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def long_text(n: int) -> str:
    sentence = "客户来电反映退款迟迟没有到账，情绪激动。我先安抚情绪，再核对订单号和支付渠道，"
    return "".join(f"<p>{sentence * 4}（第{i}段）</p>" for i in range(n))


@pytest.fixture
def illustrated_manual(alice):
    """Three chapters with subsections, pictures in several layouts, a cover and openers."""
    manual = create_manual(owner=alice, title="王丽的工作手册")
    cover = store_image(manual=manual, data=picture_bytes((1200, 800)), original_name="c.jpg",
                        purpose="cover")  # fmt: skip
    art = store_image(manual=manual, data=picture_bytes(color=(150, 60, 40)), original_name="a",
                      purpose="illustration")  # fmt: skip
    photo = store_image(manual=manual, data=picture_bytes(color=(90, 90, 160)), original_name="p")
    figure = (
        f'<figure class="layout-side"><img src="/images/{photo.pk}/" alt="工单截图">'
        "<figcaption>工单截图</figcaption></figure>"
        f'<figure class="layout-side"><img src="/images/{photo.pk}/" alt="回复模板">'
        "<figcaption>回复模板</figcaption></figure>"
    )
    insert_sections(
        manual=manual,
        parent=None,
        sections=[
            NewSection(
                1, "管理制度", f'<p><img src="/images/{art.pk}/" alt="插画"></p>' + long_text(2)
            ),  # fmt: skip
            NewSection(2, "考勤制度", long_text(12), visibility="shared"),
            NewSection(2, "质检标准", long_text(6) + figure),
            NewSection(3, "扣分细则", long_text(20)),
            NewSection(1, "工作复盘", long_text(1), visibility="shared"),
            NewSection(2, "2024-03 退款纠纷", long_text(15), visibility="shared"),
            NewSection(2, "2024-05 物流投诉", long_text(8)),
            NewSection(1, "学习工具", long_text(3)),
            NewSection(2, "快捷回复", long_text(4)),
        ],
    )
    manual.cover = cover
    return manual
