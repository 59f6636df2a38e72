"""Django's makemessages, also extracting ``_lazy("…")``.

Modules that need both the eager and the lazy form import ``gettext_lazy as _lazy``;
xgettext does not know that name, so without this those strings would silently stay
Chinese in the English UI.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]
