from django import template
from django.utils.safestring import SafeString, mark_safe

from manuals.notes import localized_note
from manuals.sanitize import sanitize_html

register = template.Library()


@register.filter
def sanitized(html: str) -> SafeString:
    """Bodies are cleaned when saved; cleaning again on output costs little and keeps a
    row written by hand (or by an older version) from ever reaching a page unclean."""
    return mark_safe(sanitize_html(html))  # nh3 output is safe HTML


@register.filter
def system_note(note: str) -> str:
    """A stored system note ("新建", "恢复自版本 2", "复制自 …") in the reader's language."""
    return localized_note(note)
