from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "manuals.accounts"
    label = "manuals_accounts"
    verbose_name = _("账号")
