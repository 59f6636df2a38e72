from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the site: the supervised stack, health, error pages, logs, backups."""

    name = "ops"
    default_auto_field = "django.db.models.BigAutoField"
