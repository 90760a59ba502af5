from django.apps import AppConfig


class QueryConfig(AppConfig):
    name = "shebao.query"
    label = "query"
    verbose_name = "查询业务"
