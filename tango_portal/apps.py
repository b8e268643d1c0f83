from django.apps import AppConfig


class TangoPortalConfig(AppConfig):
    name = "tango_portal"
    verbose_name = "Teams and users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signal receivers: the security log, the sudo-mode sign-in stamp and the metrics' counters.
        from tango_portal.accounts import sudo  # noqa: F401
        from tango_portal.core import metrics, security_log  # noqa: F401
