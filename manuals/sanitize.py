"""Sanitised rich text: every path that writes a body to the database cleans it.

The cleaning happens in the field's ``get_db_prep_save``, which Django calls for
``save()``, ``bulk_create()`` and ``QuerySet.update()`` alike, so no import, clone or
restore can store hostile HTML by going around a form.
"""

from __future__ import annotations

import nh3
from django.db import models

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
    "span": {"hl"},
    "div": {"note", "warning"},
    "p": {"note", "warning"},
}


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        # Pictures come from our own image library only: no remote or file: fetches.
        if not value.startswith("/") or value.startswith("//"):
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


class SanitizedHTMLField(models.TextField):
    def get_db_prep_save(self, value, connection):
        if isinstance(value, str):
            value = sanitize_html(value)
        return super().get_db_prep_save(value, connection)
