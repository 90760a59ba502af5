"""WeChat port: official-account web authorisation (snsapi_base) in our vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class WechatError(Exception):
    """WeChat answered with an ``errcode`` or could not be reached."""

    def __init__(self, message: str, *, errcode: int = -1, retryable: bool = False):
        super().__init__(message)
        self.errcode = errcode
        self.retryable = retryable


@dataclass(frozen=True)
class OAuthToken:
    openid: str
    scope: str
    unionid: str | None = None
    is_snapshotuser: bool = False


class WechatOAuth(Protocol):
    appid: str

    def authorize_url(self, *, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
        """URL to send the browser to (ends with ``#wechat_redirect``)."""
        ...

    def exchange_code(self, *, code: str) -> OAuthToken:
        """Exchange a one-shot code for the openid (GET /sns/oauth2/access_token)."""
        ...
