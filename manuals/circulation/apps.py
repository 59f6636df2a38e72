from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CirculationConfig(AppConfig):
    name = "manuals.circulation"
    label = "manuals_circulation"
    verbose_name = _("流转与交接")
