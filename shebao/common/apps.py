from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django admin with the back office's own site: TOTP required (shebao.common.backoffice)."""

    default = False  # named in INSTALLED_APPS by its path; shebao.common's own config stays the default
    default_site = "shebao.common.backoffice.StaffAdminSite"


class CommonConfig(AppConfig):
    default = True
    name = "shebao.common"
    label = "common"
    verbose_name = "公共"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate


        post_migrate.connect(_roles_after_migrate, dispatch_uid="shebao.common.roles")

        from shebao.common.middleware import record_login

        user_logged_in.connect(record_login, dispatch_uid="shebao.common.record_login")


def _roles_after_migrate(sender, **kwargs):
    """Once per migrate (after the last app's signal): the staff roles are in place."""
    from django.apps import apps

    from shebao.common.roles import ensure_roles  # noqa: PLC0415 (apps are ready only now)

    if sender.label == list(apps.get_app_configs())[-1].label:
        ensure_roles()
