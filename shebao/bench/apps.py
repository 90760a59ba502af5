from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "shebao.bench"
    label = "bench"
    verbose_name = "压力测试"
