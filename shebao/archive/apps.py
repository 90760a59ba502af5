from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "shebao.archive"
    label = "archive"
    verbose_name = "资料归档"
