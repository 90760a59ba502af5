from django.apps import AppConfig


class RefundsConfig(AppConfig):
    name = "shebao.refunds"
    verbose_name = "退费"
    default_auto_field = "django.db.models.BigAutoField"
