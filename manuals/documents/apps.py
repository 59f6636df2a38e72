from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "manuals.documents"
    label = "manuals_documents"
    verbose_name = _("Word、Markdown 与归档")
