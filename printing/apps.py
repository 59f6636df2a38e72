from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrintingConfig(AppConfig):
    name = "printing"
    verbose_name = _("打印")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from printing import checks  # noqa: F401  (registers the start-up checks)
        from printing.cleanup import edition_deleted
        from printing.models import Edition

        post_delete.connect(edition_deleted, sender=Edition, dispatch_uid="edition-files")
