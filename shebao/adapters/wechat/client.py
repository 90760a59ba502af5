"""Production client of WeChat official-account web authorisation (interfaces.md §1).

Speaks the real protocol to ``open.weixin.qq.com`` (browser redirect) and
``api.weixin.qq.com`` (code exchange); the base URLs are settings so that the
same client talks to the loopback simulator. Never logs the secret, the code
or the openid: only the endpoint, the errcode and the duration.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote, urlencode

from shebao.adapters.http import OutgoingHttp, ProviderUnavailable
from shebao.adapters.wechat.port import OAuthToken, WechatError

logger = logging.getLogger(__name__)

PROVIDER = "wechat"
SCOPES = ("snsapi_base", "snsapi_userinfo")
# errcodes after which the same request may be sent again: -1 "system error" (busy).
RETRYABLE_ERRCODES = frozenset({-1})
# Not a WeChat errcode: our refusal of a snapshot-page virtual account (§1.5).
SNAPSHOT_USER_ERRCODE = -10001
_STATE_RE = re.compile(r"[A-Za-z0-9]{1,128}")
_CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")


class WechatOAuthClient:
    """The :class:`~shebao.adapters.wechat.port.WechatOAuth` port over HTTP."""

    def __init__(self, appid: str, secret: str, open_base: str, api_base: str, timeout: float):
        if not appid or not secret:
            raise ValueError("WeChat appid and secret are required")
        self.appid = appid
        self._secret = secret
        self._open_base = open_base.rstrip("/")
        self._api_base = api_base.rstrip("/")
        self._http = OutgoingHttp(provider=PROVIDER, timeout=timeout, unavailable=_unreachable)

    def __repr__(self) -> str:  # keeps the secret out of tracebacks and debug pages
        return f"WechatOAuthClient(appid={self.appid!r}, api_base={self._api_base!r})"

    def authorize_url(self, *, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
        """The URL to send the browser to (§1.2).

        ``redirect_uri`` is percent-encoded whole; ``state`` must be 1–128 characters of
        ``[A-Za-z0-9]`` (WeChat's rule; we also require it, since it carries the CSRF
        token bound to the session); the URL ends with ``#wechat_redirect``.
        Raises ``ValueError`` for arguments WeChat would answer with "该链接无法访问".
        """
        if not _STATE_RE.fullmatch(state or ""):
            raise ValueError("state must be 1-128 characters of A-Z, a-z, 0-9")
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        if not redirect_uri.startswith(("https://", "http://")):
            raise ValueError("redirect_uri must be an absolute http(s) URL")
        query = urlencode(
            {"appid": self.appid, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope, "state": state},
            quote_via=quote,
            safe="",
        )
        return f"{self._open_base}/connect/oauth2/authorize?{query}#wechat_redirect"

    def exchange_code(self, *, code: str) -> OAuthToken:
        """Exchange a one-shot code for the openid: GET /sns/oauth2/access_token (§1.1 step 3).

        Any ``errcode`` other than 0 raises :class:`WechatError` (as wechatpy does, §1.6):
        40029 (invalid/expired code) and 40163 (code used) are final; -1 (system busy),
        an unreachable API or a non-JSON answer are retryable. A token with
        ``is_snapshotuser=1`` is refused: its openid is virtual (§1.5).
        """
        if not _CODE_RE.fullmatch(code or ""):
            # The code comes from the browser's query string: refuse garbage without a call.
            raise WechatError("授权码无效，请重新进入", errcode=40029, retryable=False)
        params = {"appid": self.appid, "secret": self._secret, "code": code, "grant_type": "authorization_code"}
        payload = self._get_json("/sns/oauth2/access_token", params)
        openid = payload.get("openid")
        if not isinstance(openid, str) or not openid:
            _log("/sns/oauth2/access_token", outcome="no_openid")
            raise WechatError("微信未返回用户标识", errcode=-1, retryable=False)
        if payload.get("is_snapshotuser") == 1:
            _log("/sns/oauth2/access_token", outcome="snapshot_user")
            raise WechatError(
                "当前为微信快照页模式，无法确认您的身份。请点击页面下方的“使用完整服务”后重试。",
                errcode=SNAPSHOT_USER_ERRCODE,
                retryable=False,
            )
        unionid = payload.get("unionid")
        return OAuthToken(
            openid=openid,
            scope=str(payload.get("scope", "")),
            unionid=unionid if isinstance(unionid, str) and unionid else None,
            is_snapshotuser=False,
        )

    def _get_json(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """GET an API endpoint and return its JSON; WeChat answers errors as errcode JSON on HTTP 200.

        Transport failures come back from ``OutgoingHttp`` as a retryable ``WechatError``
        (see ``_unreachable``); it also logs provider, path, status, duration and request id."""
        response = self._http.request("GET", self._api_base + path, params=params)
        if response.status_code != 200:
            _log(path, outcome="http_error", status=response.status_code)
            retryable = response.status_code >= 500 or response.status_code == 429
            raise WechatError("微信服务暂时无法访问，请稍后再试", errcode=-1, retryable=retryable)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            _log(path, outcome="bad_json")
            raise WechatError("微信服务返回了无法识别的应答", errcode=-1, retryable=True)
        errcode = payload.get("errcode", 0)
        if not isinstance(errcode, int):
            errcode = -1
        if errcode != 0:
            _log(path, outcome="errcode", errcode=errcode)
            # errmsg is WeChat's English text plus a rid; it names no person.
            raise WechatError(f"微信接口错误 {errcode}: {payload.get('errmsg', '')}", errcode=errcode,
                              retryable=errcode in RETRYABLE_ERRCODES)
        return payload


def _unreachable(error: ProviderUnavailable) -> WechatError:
    """Timeout, refused connection, DNS or TLS failure: retryable, like errcode -1."""
    return WechatError("微信服务暂时无法访问，请稍后再试", errcode=-1, retryable=True)


def _log(path: str, *, outcome: str, **extra: Any) -> None:
    """One warning per refused answer: endpoint and outcome only (no secret, code, token or openid)."""
    logger.warning("wechat %s %s", path, outcome, extra={"provider": PROVIDER, "endpoint": path, "outcome": outcome, **extra})
