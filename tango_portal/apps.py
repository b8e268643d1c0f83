from django.apps import AppConfig


class TangoPortalConfig(AppConfig):
    name = "tango_portal"
    verbose_name = "Teams and users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signal receivers: the security log and the sudo-mode sign-in stamp.
        from tango_portal import security_log, sudo  # noqa: F401
