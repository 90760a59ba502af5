from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "shebao.rules"
    label = "rules"
    verbose_name = "缴费规则"
