from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shebao.accounts"
    label = "accounts"
    verbose_name = "用户中心"
