from django.apps import AppConfig


class FeesConfig(AppConfig):
    name = "shebao.fees"
    label = "fees"
    verbose_name = "涉费业务"
