from django.apps import AppConfig


class SmsAdapterConfig(AppConfig):
    name = "shebao.adapters.sms"
    label = "sms_adapter"
