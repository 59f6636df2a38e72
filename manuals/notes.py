"""System notes (revision notes, origin notes) shown in the reader's language.

The notes are written with ``gettext`` in the writer's language and stored as text, so a
note written in Chinese stays Chinese in the English pages (and the other way round). At
render every known note is matched against each language's form of its message and
written again in the reader's language, parameters kept; unknown notes (the agent's own
words, anything older) show as stored.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _noop

KNOWN = (
    _noop("新建"),
    _noop("导入"),
    _noop("默认模板内容"),
    _noop("保留我的版本"),
    _noop("恢复自版本 %(v)d"),
    _noop("从模板“%(title)s”创建"),
    _noop("采用模板新增的章节（模板第 %(v)d 版）"),
    _noop("采用模板更新（模板第 %(v)d 版）"),
    _noop("模板第 %(v)d 版（存档，未采用）"),
    _noop("合并模板更新（模板第 %(v)d 版）"),
    _noop("复制自 %(name)s《%(manual)s》：%(path)s（%(when)s）"),
    _noop("移交自 %(name)s《%(manual)s》：%(path)s（%(when)s）"),
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)([ds])")


def _pattern(form: str) -> re.Pattern:
    parts, last = [], 0
    for m in _PLACEHOLDER.finditer(form):
        parts.append(re.escape(form[last : m.start()]))
        parts.append(rf"(?P<{m.group(1)}>\d+)" if m.group(2) == "d" else rf"(?P<{m.group(1)}>.+?)")
        last = m.end()
    parts.append(re.escape(form[last:]))
    return re.compile("".join(parts), re.S)


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern, str]]:
    found = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for msgid in KNOWN:
                found.append((_pattern(gettext(msgid)), msgid))
    return found


def localized_note(note: str) -> str:
    """``note`` in the active language when it is one of the KNOWN system notes."""
    if not note:
        return note
    for pattern, msgid in _patterns():
        match = pattern.fullmatch(note)
        if match is None:
            continue
        params = {k: int(v) if v.isdigit() else v for k, v in match.groupdict().items()}
        return gettext(msgid) % params if params else gettext(msgid)
    return note
