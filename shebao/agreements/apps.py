from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "shebao.agreements"
    verbose_name = "委托扣款"
    default_auto_field = "django.db.models.BigAutoField"
