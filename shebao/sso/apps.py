from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "shebao.sso"
    verbose_name = "单点登录与合作渠道"
    default_auto_field = "django.db.models.BigAutoField"
