from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "shebao.rules"
    label = "rules"
    verbose_name = "缴费规则"

    def ready(self):
        from shebao.rules.selectors import watch_rule_tables

        watch_rule_tables()
