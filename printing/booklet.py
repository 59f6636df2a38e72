"""Assembling a booklet: which sections, in which chapters, as print-ready HTML.

Only reads the database. The HTML of each chapter is complete on its own (it does not
know its page numbers), so a chapter whose HTML did not change can come from the cache.
A chapter's HTML is built only when it is to be rendered: its ``source_key`` (a hash of
the template and everything the template is given) says whether the cache has it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from manuals.models import Image, Manual, Section, member_of, nest
from manuals.sanitize import sanitize_html
from printing.print_images import STYLES, print_copy, print_images_dir
from printing.theming import Theme, get_theme

PAPERS = {"A4": "A4", "A5": "A5"}
SCOPES = ("all", "shared")
TOC_DEPTH = 3
# Past this many lines the contents stop being read and only cost pages: a big book lists
# fewer levels there (its PDF bookmarks still hold the whole tree).
TOC_MAX_ENTRIES = 400
IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
ATTR = re.compile(r'\s([a-zA-Z-]+)="([^"]*)"')
IMAGE_URL = re.compile(r"^/images/(\d+)/(?:thumb/)?$")
CHINESE_DIGITS = "零一二三四五六七八九"
CHAPTER_TEMPLATE = "printing/booklet/chapter.html"


class PrintError(Exception):
    """A booklet that cannot be made; the message is for the user."""


@dataclass(frozen=True)
class BookletOptions:
    theme: str = "plain"
    paper: str = "A5"
    scope: str = "all"
    subtree_id: int | None = None
    title: str = ""
    image_style: str = ""  # "" = the theme's own style

    def as_dict(self) -> dict:
        return {
            "theme": self.theme,
            "paper": self.paper,
            "scope": self.scope,
            "subtree_id": self.subtree_id,
            "title": self.title,
            "image_style": self.image_style,
        }


@dataclass
class Entry:
    section_id: int
    title: str
    depth: int  # 1 = chapter
    chapter: int  # index into Booklet.chapters


@dataclass
class Chapter:
    index: int
    section_id: int
    title: str
    # Plain values only (what the chapter template shows), so that it can be hashed.
    context: dict = field(repr=False)
    entries: list[Entry] = field(default_factory=list)

    @cached_property
    def source_key(self) -> str:
        """Changes whenever the chapter's HTML would: same key, same HTML."""
        digest = hashlib.sha256(_template_digest().encode())
        digest.update(json.dumps(self.context, ensure_ascii=False, sort_keys=True).encode())
        return digest.hexdigest()

    @cached_property
    def html(self) -> str:
        return render_to_string(CHAPTER_TEMPLATE, self.context)

    @cached_property
    def head_key(self) -> str:
        """Everything of the chapter but its sections: the opener, the intro, the running
        head. Two renderings with the same head differ only in their sections."""
        digest = hashlib.sha256(_template_digest().encode())
        head = {k: v for k, v in self.context.items() if k != "sections"}
        digest.update(json.dumps(head, ensure_ascii=False, sort_keys=True).encode())
        return digest.hexdigest()

    @cached_property
    def section_keys(self) -> list[list]:
        """[section id, hash of what the template is given for it], in print order."""
        return [
            [part["id"], hashlib.sha256(
                json.dumps(part, ensure_ascii=False, sort_keys=True).encode()
            ).hexdigest()[:32]]
            for part in self.context["sections"]
        ]  # fmt: skip

    def tail_html(self, start: int) -> str:
        """The chapter from its ``start``-th section on, as the pages from the one that
        section opens: no opener or intro, the running head's chapter name set on the body
        (the opener set it before)."""
        # As content() gives it: CSS collapses only its own white space (not U+3000).
        name = re.sub(r"[ \t\n\r\f]+", " ", self.title).strip(" ")
        carry = '"' + "".join(f"\\{ord(c):x} " for c in name) + '"'
        context = {**self.context, "sections": self.context["sections"][start:],
                   "carry": carry}  # fmt: skip
        return render_to_string(CHAPTER_TEMPLATE, context)


@cache
def _template_digest() -> str:
    template = get_template(CHAPTER_TEMPLATE).template
    return hashlib.sha256(template.source.encode()).hexdigest()


@dataclass
class Booklet:
    manual: Manual
    title: str
    theme: Theme
    options: BookletOptions
    chapters: list[Chapter]
    entries: list[Entry]
    allowed_roots: list[Path]
    cover_image: Path | None
    owner_name: str
    team_name: str
    date_label: str
    missing_images: int = 0
    # The language of the booklet's own words (contents, edition line, chapter labels);
    # the front matter is rendered later, in another process, so it is kept here.
    language: str = settings.LANGUAGE_CODE
    # Who the booklet is for ("everything": its owner, every section): a chapter is set
    # again from an earlier rendering of it only for the same readers (printing.render).
    audience: str = "everything"

    @property
    def toc_depth(self) -> int:
        depth = TOC_DEPTH
        while depth > 1 and sum(1 for e in self.entries if e.depth <= depth) > TOC_MAX_ENTRIES:
            depth -= 1
        return depth

    def toc_entries(self) -> list[Entry]:
        depth = self.toc_depth
        return [e for e in self.entries if e.depth <= depth]

    def front_html(self, *, page_of: dict[int, int]) -> str:
        """The cover and contents. The contents leave room for the page numbers (as many
        digits as the last one has, so that the numbers line up on the right and the
        leaders end together) but do not print them: they are stamped in after binding,
        so the same front matter serves again when pages shift."""
        digits = len(str(max(page_of.values(), default=0)))
        toc = [{"entry": e, "digits": digits} for e in self.toc_entries()]
        with translation.override(self.language):
            return render_to_string(
                "printing/booklet/front.html",
                {"booklet": self, "toc": toc, "cover_uri": _uri(self.cover_image)},
            )

    def contents_sheet_html(self, *, digits: str) -> str:
        """``digits`` once per contents level, styled as that level's page numbers."""
        lines = "".join(
            f'<div class="toc-entry toc-l{depth}"><span class="toc-page toc-digits">{digits}'
            "</span></div>"
            for depth in range(1, TOC_DEPTH + 1)
        )
        return (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>'
            ".toc-digits::before, .toc-digits::after { content: none !important }"
            ".toc-digits { font-kerning: none; font-variant-ligatures: none }</style></head>"
            f'<body class="front lang-{self.language} theme-{self.theme.name} '
            f'paper-{self.options.paper.lower()}"><nav class="toc">{lines}</nav></body></html>'
        )


def chinese_number(n: int) -> str:
    if n < 10:
        return CHINESE_DIGITS[n]
    if n < 20:
        return "十" + (CHINESE_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CHINESE_DIGITS[n // 10] + "十" + (CHINESE_DIGITS[n % 10] if n % 10 else "")
    return str(n)


def chapter_label(n: int) -> str:
    """第一章 in Chinese, "Chapter 1" in English (the catalog reorders, we pick the digits)."""
    chinese = (translation.get_language() or settings.LANGUAGE_CODE).startswith("zh")
    return _("第%(n)s章") % {"n": chinese_number(n) if chinese else str(n)}


def _uri(path: Path | None) -> str:
    return path.resolve().as_uri() if path else ""


def _sections(manual: Manual, options: BookletOptions, user) -> list[Section]:
    sections = Section.objects.filter(manual=manual, level__gt=0).live()
    if user is not None:
        sections = sections.readable_by(user)
    if options.scope == "shared":
        sections = sections.filter(visibility=Section.Visibility.SHARED)
    if options.subtree_id:
        top = Section.objects.filter(manual=manual, pk=options.subtree_id).live().first()
        if top is None or (user is not None and not top.readable_by(user)):
            raise PrintError(_("选定的章节不存在或你无权打印。"))
        sections = sections.subtree_of(top)
    return list(
        sections.only("id", "title", "body", "kind", *Section.TREE_FIELDS).in_outline_order()
    )


def _depths(sections: list[Section]) -> list[int]:
    """Depth among the printed sections: a hidden parent does not leave a hole."""
    return [depth for _section, depth in nest(sections)]


class _ImageResolver:
    def __init__(self, manual: Manual, style: str):
        self.style = style
        self.by_id = {image.pk: image for image in Image.objects.filter(manual=manual)}
        self.missing = 0

    def path_for(self, image_id: int) -> Path | None:
        image = self.by_id.get(image_id)
        if image is None or not image.file:
            return None
        try:
            return print_copy(image=image, style=self.style)
        except (OSError, ValueError):
            return None

    def rewrite(self, html: str) -> str:
        def replace(match: re.Match) -> str:
            attrs = dict(ATTR.findall(match.group(0)))
            found = IMAGE_URL.match(attrs.get("src", ""))
            path = self.path_for(int(found.group(1))) if found else None
            if path is None:
                self.missing += 1
                alt = attrs.get("alt", "")
                label = _("图片缺失") + (f"：{alt}" if alt else "")
                return f'<span class="missing-image">[{label}]</span>'
            alt = attrs.get("alt", "")
            return f'<img src="{path.resolve().as_uri()}" alt="{alt}">'

        return IMG_TAG.sub(replace, html)

    def illustration(self, html: str) -> tuple[str, str]:
        """Take the chapter's first illustration out of its body for the opener page."""
        for match in IMG_TAG.finditer(html):
            attrs = dict(ATTR.findall(match.group(0)))
            found = IMAGE_URL.match(attrs.get("src", ""))
            image = self.by_id.get(int(found.group(1))) if found else None
            if image is not None and image.purpose == Image.Purpose.ILLUSTRATION:
                path = self.path_for(image.pk)
                if path is not None:
                    art = f'<img src="{path.resolve().as_uri()}" alt="{escape(image.caption)}">'
                    return art, html[: match.start()] + html[match.end() :]
        return "", html


IMAGE_ID = re.compile(r"/images/(\d+)/")


def _cover_image(
    manual: Manual, resolver: _ImageResolver, *, shown_in: list[Section] | None
) -> Path | None:
    """The newest 封面照片 picture. A booklet of part of the manual (``shown_in``: its
    sections) takes only a cover that one of them shows: the picture library itself is
    the owner's, and a reader must not find a picture in print they cannot open."""
    candidates = resolver.by_id.values()
    if shown_in is not None:
        ids = {int(m) for s in shown_in for m in IMAGE_ID.findall(s.body)}
        candidates = [i for i in candidates if i.pk in ids]
    covers = sorted(
        (i for i in candidates if i.purpose == Image.Purpose.COVER),
        key=lambda i: (i.created_at, i.pk),
        reverse=True,
    )
    for image in covers:
        path = resolver.path_for(image.pk)
        if path is not None:
            return path
    return None


def assemble_booklet(
    *, manual: Manual, options: BookletOptions, user=None, language: str | None = None
) -> Booklet:
    """Everything the renderer needs; ``user`` limits the sections to what they may read.

    The booklet speaks ``language`` (default: the active one, i.e. the reader's)."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        booklet = _assemble(manual=manual, options=options, user=user)
    booklet.language = language
    return booklet


def _prints_everything(manual: Manual, options: BookletOptions, user) -> bool:
    """Whether this booklet holds every section (only its owner may read it then)."""
    return (
        options.scope == "all"
        and not options.subtree_id
        and (user is None or manual.readable_in_full_by(user))
    )


def _assemble(*, manual: Manual, options: BookletOptions, user) -> Booklet:
    theme = get_theme(options.theme)
    if options.paper not in PAPERS:
        raise PrintError(_("纸张只能是 A4 或 A5。"))
    if options.scope not in SCOPES:
        raise PrintError(_("未知的打印范围。"))
    style = options.image_style or theme.image_style
    if style not in STYLES:
        raise PrintError(_("未知的图片风格。"))
    sections = _sections(manual, options, user)
    if not sections:
        raise PrintError(_("没有可打印的章节：这本手册是空的，或所选范围内没有章节。"))
    resolver = _ImageResolver(manual, style)
    depths = _depths(sections)
    title = options.title.strip() or manual.title
    if options.subtree_id and not options.title.strip():
        title = f"{manual.title} · {sections[0].title}"

    chapters: list[Chapter] = []
    entries: list[Entry] = []
    groups: list[list[tuple[Section, int]]] = []
    for section, depth in zip(sections, depths, strict=True):
        if depth == 1:
            groups.append([])
        groups[-1].append((section, depth))
    for index, group in enumerate(groups):
        head, _depth = group[0]
        art, head_body = resolver.illustration(sanitize_html(head.body))
        parts = []
        chapter_entries = [Entry(head.pk, head.title, 1, index)]
        for section, depth in group[1:]:
            chapter_entries.append(Entry(section.pk, section.title, depth, index))
            parts.append(
                {
                    "id": section.pk,
                    "title": section.title,
                    "depth": depth,
                    "h": min(depth, 6),
                    "kind": section.kind,
                    "body": resolver.rewrite(sanitize_html(section.body)),
                }
            )
        context = {
            "number": chapter_label(index + 1),
            "chapter": {"pk": head.pk, "title": head.title},
            "art": art,
            "intro": resolver.rewrite(head_body),
            "sections": parts,
            "theme": {"name": theme.name},
            "paper": options.paper,
        }
        chapters.append(Chapter(index, head.pk, head.title, context, chapter_entries))
        entries.extend(chapter_entries)

    member = member_of(manual.owner)
    # Pictures reach the renderer only as copies in this manual's print-cache folder.
    roots = [theme.path, print_images_dir() / str(manual.pk)]
    return Booklet(
        manual=manual,
        title=title,
        theme=theme,
        options=options,
        chapters=chapters,
        entries=entries,
        allowed_roots=roots,
        cover_image=_cover_image(
            manual,
            resolver,
            shown_in=None if _prints_everything(manual, options, user) else sections,
        ),
        owner_name=member.name if member else manual.owner.get_username(),
        team_name=manual.team.name,
        date_label=timezone.localdate().strftime("%Y-%m-%d"),
        missing_images=resolver.missing,
        audience="everything"
        if _prints_everything(manual, options, user)
        else f"{options.scope}:{getattr(user, 'pk', None)}:{options.subtree_id or ''}",
    )
