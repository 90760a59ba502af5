from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    name = "shebao.reference"
    label = "reference"
    verbose_name = "参考数据"

    def ready(self):
        from shebao.reference.selectors import watch_reference_tables

        watch_reference_tables()
