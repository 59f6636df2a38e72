from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImagesConfig(AppConfig):
    name = "manuals.images"
    label = "manuals_images"
    verbose_name = _("图片")
