"""Markdown in and out: ``#`` headings are the tree, the text between them the bodies.

Import reads a .md file (pictures next to it when given a path) or a .zip holding one .md
and its pictures, which is also what export writes when a manual has pictures.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import posixpath
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from markdown_it import MarkdownIt
from markdownify import markdownify

from manuals.bulk import NewSection
from manuals.documents.types import (
    HeadingDepths,
    ImportRefused,
    ParsedDocument,
    PendingImage,
    placeholder,
)
from manuals.models import TITLE_MAX_LENGTH, Image, Manual
from manuals.outline import readable_outline

MAX_MARKDOWN_BYTES = 50 * 1024 * 1024
MAX_IMAGE_BYTES = 50 * 1024 * 1024
# What a Markdown zip may expand to in memory, all pictures together (each one is also held
# to MAX_IMAGE_BYTES); pictures beyond it are listed as not imported.
MAX_ZIP_EXPANDED_BYTES = 256 * 1024 * 1024
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
IMG_TAG = re.compile(r"<img\s[^>]*>")
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
IMAGE_SRC = re.compile(r'<img src="/images/(\d+)/"[^>]*>')


def _parser() -> MarkdownIt:
    # Raw HTML is allowed through: every body is sanitised when it is saved.
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("无法识别这个文本文件的编码，请另存为 UTF-8 编码后再上传。"))


def read_markdown_file(path: Path, *, name: str, base_dir: Path | None = None) -> ParsedDocument:
    if path.stat().st_size > MAX_MARKDOWN_BYTES:
        raise ImportRefused(_("Markdown 文件太大（超过 50 MB）。"))
    text = decode_text(path.read_bytes())
    root = (base_dir or path.parent).resolve()

    def load(src: str) -> bytes | None:
        # Only files inside the document's own folder: no "../../etc/passwd".
        candidate = (root / src).resolve()
        if root not in candidate.parents or not candidate.is_file():
            return None
        if candidate.stat().st_size > MAX_IMAGE_BYTES:
            return None
        return candidate.read_bytes()

    return parse_markdown(text, name=name, load_image=load if base_dir is not None else None)


def is_markdown_zip(path: Path) -> bool:
    with zipfile.ZipFile(path) as package:
        names = package.namelist()
    return not any(n.startswith("word/") for n in names) and any(
        n.lower().endswith((".md", ".markdown")) for n in names
    )


def read_markdown_zip(path: Path, *, name: str) -> ParsedDocument:
    with zipfile.ZipFile(path) as package:
        documents = [n for n in package.namelist() if n.lower().endswith((".md", ".markdown"))]
        if len(documents) != 1:
            raise ImportRefused(
                _("压缩包里有 %(n)d 个 Markdown 文件，一次只能导入一个。") % {"n": len(documents)}
            )
        members = {info.filename: info for info in package.infolist()}
        if members[documents[0]].file_size > MAX_MARKDOWN_BYTES:
            raise ImportRefused(_("Markdown 文件太大（超过 50 MB）。"))
        text = decode_text(package.read(documents[0]))
        folder = posixpath.dirname(documents[0])
        budget = [MAX_ZIP_EXPANDED_BYTES]
        loaded: dict[str, bytes] = {}

        def load(src: str) -> bytes | None:
            # zipfile never reads past a member's declared size, so the sizes are a bound.
            member = posixpath.normpath(posixpath.join(folder, src))
            info = members.get(member)
            if member in loaded or info is None:
                return loaded.get(member)
            if info.file_size > MAX_IMAGE_BYTES or info.file_size > budget[0]:
                return None
            budget[0] -= info.file_size
            loaded[member] = package.read(member)
            return loaded[member]

        return parse_markdown(text, name=Path(documents[0]).name, load_image=load)


def parse_markdown(
    text: str, *, name: str, load_image: Callable[[str], bytes | None] | None
) -> ParsedDocument:
    title = Path(name).stem
    front = FRONT_MATTER.match(text)
    if front:
        text = text[front.end() :]
        found = re.search(r"^title:\s*(.+)$", front.group(1), re.M)
        if found:
            title = found.group(1).strip().strip("\"'")
    parsed = ParsedDocument(source="md", title=title[:TITLE_MAX_LENGTH], sections=[])
    md = _parser()
    env: dict = {}
    tokens = md.parse(text, env)
    depths = HeadingDepths(parsed)
    images = _ImageCollector(parsed, load_image)
    current: NewSection | None = None
    start = 0

    def close(end: int) -> None:
        body = images.swap(md.renderer.render(tokens[start:end], md.options, env)).strip()
        if current is not None:
            current.body = body
        elif body:
            parsed.sections.append(NewSection(1, _("引言"), body))

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open" and token.level == 0:
            inline = tokens[index + 1]
            heading = html.unescape(re.sub(r"<[^>]+>", "", md.renderInline(inline.content)))
            heading = " ".join(heading.split())
            if heading:
                close(index)
                level = int(token.tag[1])
                depth = depths.depth_for(level, heading)
                current = NewSection(depth, heading[:TITLE_MAX_LENGTH])
                parsed.sections.append(current)
                start = index + 3
            index += 3
            continue
        index += 1
    close(len(tokens))
    if not parsed.sections:
        raise ImportRefused(_("这个文档是空的：没有标题，也没有正文。"))
    if len(parsed.sections) == 1 and parsed.sections[0].title == _("引言"):
        parsed.sections[0].title = parsed.title
        parsed.warn(_("文档里没有 # 标题，整篇作为一节导入。"))
    images.report()
    return parsed


class _ImageCollector:
    def __init__(self, parsed: ParsedDocument, load: Callable[[str], bytes | None] | None):
        self.parsed, self.load = parsed, load
        self.keys: dict[str, str] = {}
        self.remote = 0
        self.missing: list[str] = []

    def swap(self, body: str) -> str:
        return IMG_TAG.sub(self._one, body)

    def _one(self, match: re.Match) -> str:
        attrs = dict(ATTR.findall(match.group(0)))
        src, alt = html.unescape(attrs.get("src", "")), html.unescape(attrs.get("alt", ""))
        if src in self.keys:
            return placeholder(self.keys[src], alt)
        data = self._data(src)
        if data is None:
            return "<em>" + html.escape(_("［图片未能导入：%(src)s］") % {"src": src}) + "</em>"
        key = f"img{len(self.keys) + 1}"
        self.keys[src] = key
        image_name = posixpath.basename(src.split("?")[0]) if not src.startswith("data:") else key
        self.parsed.images[key] = PendingImage(key=key, name=image_name, data=data,
                                               caption=alt[:200])  # fmt: skip
        return placeholder(key, alt)

    def _data(self, src: str) -> bytes | None:
        if src.startswith("data:"):
            try:
                return base64.b64decode(src.split(",", 1)[1], validate=False)
            except (IndexError, binascii.Error):
                self.missing.append(src[:40])
                return None
        if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith("//"):
            self.remote += 1
            return None
        data = self.load(src) if self.load else None
        if data is None:
            self.missing.append(src)
        return data

    def report(self) -> None:
        if self.remote:
            self.parsed.warn(
                ngettext(
                    "%(n)d 张网络图片没有下载（只导入文档自带的图片）。",
                    "%(n)d 张网络图片没有下载（只导入文档自带的图片）。",
                    self.remote,
                )
                % {"n": self.remote}
            )
        if self.missing:
            self.parsed.warn(
                ngettext(
                    "%(n)d 张图片找不到文件，没有导入：%(names)s。"
                    "上传 Markdown 时请把图片和 .md 一起打成 zip。",
                    "%(n)d 张图片找不到文件，没有导入：%(names)s。"
                    "上传 Markdown 时请把图片和 .md 一起打成 zip。",
                    len(self.missing),
                )
                % {"n": len(self.missing), "names": "、".join(self.missing[:5])}
            )


# -- export -------------------------------------------------------------------------------
def export_markdown(*, manual: Manual, user=None, assets: str = "assets") -> tuple[str, dict]:
    """The manual as Markdown text and its pictures as {relative path: bytes}."""

    files: dict[str, bytes] = {}
    paths: dict[int, str] = {}
    images = {image.pk: image for image in Image.objects.filter(manual=manual)}

    def picture(match: re.Match) -> str:
        image = images.get(int(match.group(1)))
        if image is None:
            return ""
        if image.pk not in paths:
            suffix = Path(image.file.name).suffix or ".png"
            paths[image.pk] = f"{assets}/{image.pk}{suffix}"
            with image.file.open("rb") as handle:
                files[paths[image.pk]] = handle.read()
        alt = ATTR.findall(match.group(0))
        alt_text = dict(alt).get("alt", "")
        return f'<img src="{paths[image.pk]}" alt="{alt_text}">'

    lines = [f"---\ntitle: {manual.title}\n---\n"]
    for depth, section in readable_outline(manual=manual, user=user):
        lines.append(f"{'#' * min(depth, 6)} {section.title}\n")
        if section.body:
            body = IMAGE_SRC.sub(picture, section.body)
            converted = markdownify(
                body, heading_style="ATX", bullets="-", escape_underscores=False
            )
            lines.append(converted.strip() + "\n")
    return "\n".join(lines), files


def export_markdown_zip(*, manual: Manual, user=None) -> bytes:
    text, files = export_markdown(manual=manual, user=user)
    return pack_markdown(text, files)


def pack_markdown(text: str, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manual.md", text)
        for path, data in files.items():
            package.writestr(path, data)
    return buffer.getvalue()
