"""WeChat adapter: the port, its production client, and a loopback simulator.

Kept import-light: this package is also a Django app, and the simulator is
mounted before Django handles requests.
"""

from __future__ import annotations

import functools

from shebao.adapters.wechat.port import OAuthToken, WechatError, WechatOAuth

__all__ = ["OAuthToken", "WechatError", "WechatOAuth", "get_wechat_oauth"]


def get_wechat_oauth() -> WechatOAuth:
    """The configured WeChat web-authorisation client, built from ``settings.WECHAT``
    (APPID, SECRET, OPEN_BASE, API_BASE, TIMEOUT_SECONDS); the base URLs point at the
    real WeChat hosts in production and at ``/sim/wechat`` in development."""
    from django.conf import settings

    conf = settings.WECHAT
    return _client(conf["APPID"], conf["SECRET"], conf["OPEN_BASE"], conf["API_BASE"], float(conf["TIMEOUT_SECONDS"]))


@functools.lru_cache(maxsize=4)
def _client(appid: str, secret: str, open_base: str, api_base: str, timeout: float) -> WechatOAuth:
    """One client (and so one pooled HTTP session) per configuration, shared by threads."""
    from shebao.adapters.wechat.client import WechatOAuthClient

    return WechatOAuthClient(appid, secret, open_base, api_base, timeout)
