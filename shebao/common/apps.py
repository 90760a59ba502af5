from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "shebao.common"
    label = "common"
    verbose_name = "公共"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from shebao.common.middleware import record_login

        user_logged_in.connect(record_login, dispatch_uid="shebao.common.record_login")
