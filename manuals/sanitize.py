"""Sanitised rich text: every path that writes a body to the database cleans it.

The cleaning happens in the field's ``get_db_prep_save``, which Django calls for plain
values in ``save()``, ``bulk_create()`` and ``QuerySet.update()`` alike, so no import,
clone or restore can store hostile HTML by going around a form. SQL expressions in
``update()`` (``Value``, ``Concat``…) never reach that hook: SanitizedQuerySet cleans the
ones that carry text (``Value``, and ``Case``/``When`` as ``bulk_update()`` builds them)
and refuses the rest, which could assemble markup inside the database.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable

import nh3
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Case, Value, When
from django.utils.translation import gettext as _

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u", "s",
    "sub", "sup", "mark", "code", "pre", "blockquote", "ul", "ol", "li", "a", "img",
    "figure", "figcaption", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
    "colgroup", "col", "span", "div",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "target"},
    "img": {"src", "alt", "title", "width", "height", "data-image-id", "data-layout"},
    "figure": {"data-layout"},
    "ol": {"start", "type"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
}
# Absolute URLs may only be web or mail links; images must be our own (relative) URLs.
URL_SCHEMES = {"http", "https", "mailto"}
ALLOWED_CLASSES = {
    "figure": {"layout-full", "layout-side", "layout-float"},
    "span": {"hl", "image-missing"},
    "div": {"note", "warning"},
    "p": {"note", "warning"},
}


# Word's own limit is 63 columns; a cell wider than that is a typo or an attack, and every
# export walks each cell a span covers (colspan=300 once held the export for 34 s).
MAX_COLSPAN = 63
MAX_ROWSPAN = 1000
SPAN_ATTRIBUTES = {"colspan": MAX_COLSPAN, "rowspan": MAX_ROWSPAN, "span": MAX_COLSPAN}


def clamp_span(value: str | int | None, maximum: int) -> int | None:
    """A span attribute as a number in 1..maximum, or None when it is not a number."""
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    return max(1, min(int(text), maximum))


# A picture's only allowed address: our image library (or an import's placeholder, filled
# in before the body is stored). Anything else (remote, file:, data:, "/\\host/…" that a
# browser reads as another host) would fetch from elsewhere: a tracking pixel at least.
OWN_IMAGE_SRC = re.compile(r"/images/(?:\d+|import:[\w.-]+)/(?:thumb/)?")
IMG_TAG = re.compile(r"<img\b[^>]*>", re.I)
IMAGE_ID_ATTR = re.compile(r'data-image-id="(\d+)"')
IMAGE_SRC_ATTR = re.compile(r'src="/images/(\d+)/(thumb/)?"')


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute in SPAN_ATTRIBUTES and tag in {"td", "th", "col"}:
        span = clamp_span(value, SPAN_ATTRIBUTES[attribute])
        return None if span is None else str(span)
    if tag == "img" and attribute == "src":
        if not OWN_IMAGE_SRC.fullmatch(value):
            return None
    if tag == "a" and attribute == "target":
        return "_blank" if value == "_blank" else None
    return value


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    allowed_classes=ALLOWED_CLASSES,
    attribute_filter=_filter_attribute,
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitize_html(html: str | None) -> str:
    if not html:
        return ""
    cleaned = _cleaner.clean(html)
    # An editor that was emptied leaves "<p></p>": store it as empty.
    if cleaned.strip() in {"", "<p></p>", "<p><br></p>"}:
        return ""
    return cleaned


def referenced_image_ids(bodies: Iterable[str]) -> set[int]:
    """The library pictures these bodies show (their <img> tags, nothing else: a body that
    merely mentions "/images/12/" in its text shows no picture)."""
    ids: set[int] = set()
    for body in bodies:
        for tag in IMG_TAG.findall(body or ""):
            ids.update(int(n) for n in IMAGE_ID_ATTR.findall(tag))
            ids.update(int(m[0]) for m in IMAGE_SRC_ATTR.findall(tag))
    return ids


def drop_pictures_not_in(body: str, allowed: set[int]) -> str:
    """Replace each picture of another library by a visible note. A body shows only pictures
    of its own manual: a picture's readers follow the manual that owns it, so a body that
    names a colleague's picture id must not make it readable where the body is."""
    if not body or "<img" not in body:
        return body

    def one_tag(match: re.Match) -> str:
        ids = {int(n) for n in IMAGE_ID_ATTR.findall(match.group(0))}
        ids |= {int(m[0]) for m in IMAGE_SRC_ATTR.findall(match.group(0))}
        if ids <= allowed:
            return match.group(0)
        note = html_lib.escape(_("（图片不可用：它不在这本手册的图片库里，请重新上传）"))
        return f'<span class="image-missing">{note}</span>'

    return IMG_TAG.sub(one_tag, body)


class SanitizedHTMLField(models.TextField):
    def get_db_prep_save(self, value, connection):
        if isinstance(value, str):
            value = sanitize_html(value)
        return super().get_db_prep_save(value, connection)


def _sanitized_expression(value):
    if not hasattr(value, "resolve_expression"):
        return value  # plain values: get_db_prep_save cleans them
    if isinstance(value, Value):
        if not isinstance(value.value, str):
            return value
        return Value(sanitize_html(value.value), output_field=value._output_field_or_none)
    if isinstance(value, When):
        clone = value.copy()
        clone.result = _sanitized_expression(value.result)
        return clone
    if isinstance(value, Case):
        clone = value.copy()
        clone.cases = [_sanitized_expression(case) for case in value.cases]
        clone.default = _sanitized_expression(value.default)
        return clone
    raise TypeError(
        f"{type(value).__name__} cannot be written to a sanitised HTML field: "
        "set the text itself so that it is cleaned before it is stored"
    )


class SanitizedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        for name, value in kwargs.items():
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if isinstance(field, SanitizedHTMLField):
                kwargs[name] = _sanitized_expression(value)
        return super().update(**kwargs)

    update.alters_data = True
