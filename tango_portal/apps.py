from django.apps import AppConfig


class TangoPortalConfig(AppConfig):
    name = "tango_portal"
    verbose_name = "Teams and users"
    default_auto_field = "django.db.models.BigAutoField"
