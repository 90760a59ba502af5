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

        from shebao.common.middleware import record_login

        user_logged_in.connect(record_login, dispatch_uid="shebao.common.record_login")
