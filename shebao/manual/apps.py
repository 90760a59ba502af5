from django.apps import AppConfig


class ManualConfig(AppConfig):
    name = "shebao.manual"
    verbose_name = "操作手册"
    default_auto_field = "django.db.models.BigAutoField"
