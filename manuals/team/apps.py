from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamConfig(AppConfig):
    name = "manuals.team"
    label = "manuals_team"
    verbose_name = _("团队")
