from django.apps import AppConfig


class WechatAdapterConfig(AppConfig):
    name = "shebao.adapters.wechat"
    label = "wechat_adapter"
