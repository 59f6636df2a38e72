from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("搜索")

    def ready(self) -> None:
        from search import indexing  # noqa: F401  (connects the index to manuals' signals)
