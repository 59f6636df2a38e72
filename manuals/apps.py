from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ManualsConfig(AppConfig):
    name = "manuals"
    verbose_name = _("工作手册")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from manuals.views import forget_failed_logins

        user_logged_in.connect(forget_failed_logins, dispatch_uid="manuals.forget_failed_logins")
