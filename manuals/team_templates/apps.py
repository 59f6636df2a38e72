from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamTemplatesConfig(AppConfig):
    name = "manuals.team_templates"
    label = "manuals_team_templates"
    verbose_name = _("团队模板")
