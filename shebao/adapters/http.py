"""Outgoing HTTP for every adapter: one place that owns the session, the timeout,
the timing log and the mapping of transport failures (house rule "Adapters":
all HTTP through one session that always sets a timeout and logs provider,
duration and request id).

Vendors' clients (Aliyun SMS, WeChat, ...) build one ``OutgoingHttp`` each and
only map their own requests and answers. Nothing here retries: several
providers (Aliyun ``SendSms``) have no idempotency, so whether a failed call may
be repeated is the caller's decision, told by ``retryable``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from shebao.common.logging import request_id_var

logger = logging.getLogger("shebao.adapters")
# httpx logs every request at INFO with the full URL, query string included (WeChat
# sends ``secret`` and ``code`` there): our own line below replaces it.
logging.getLogger("httpx").setLevel(logging.WARNING)


class ProviderUnavailable(Exception):
    """The provider could not be reached or did not answer in time (always retryable).

    ``kind`` is ``"timeout"``, ``"unreachable"`` (connection refused, DNS, TLS)
    or ``"transport"`` (any other transport failure). The message never holds
    the URL: query strings may carry secrets (WeChat puts ``secret`` there)."""

    retryable = True

    def __init__(self, message: str, *, provider: str, kind: str):
        super().__init__(message)
        self.provider = provider
        self.kind = kind


UnavailableMapper = Callable[[ProviderUnavailable], Exception]


def _kind(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "unreachable"
    return "transport"


# A pooled connection idle for longer than this is dropped instead of reused: below the 2 s
# after which gunicorn closes an idle keep-alive connection (and far below nginx's 75 s),
# so a request is never written into a connection the server is closing (seen under load as
# a "transport" error on the first byte of a JSAPI order).
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=1.0)


class OutgoingHttp:
    """One provider's HTTP session: timeout always set, every call logged.

    Each call logs, on logger ``shebao.adapters``, the fields ``provider``,
    ``http_method``, ``http_path`` (the path only: no host, no query string, so no
    personal data and no secrets), ``status`` (``None`` when no answer came),
    ``duration_ms`` and ``outgoing_request_id`` (the caller's id, else the id of
    the incoming request; the log filter adds the incoming one as ``request_id``).

    Transport failures raise ``ProviderUnavailable``, or — when ``unavailable`` is
    given — whatever that function returns for it, so a port can raise its own
    retryable error (e.g. ``SmsError(retryable=True)``)."""

    def __init__(
        self,
        *,
        provider: str,
        timeout: float,
        unavailable: UnavailableMapper | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        if not timeout or timeout <= 0:
            raise ValueError("OutgoingHttp needs a positive timeout in seconds")
        self.provider = provider
        self.timeout = float(timeout)
        self._unavailable = unavailable
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.timeout),
            limits=POOL_LIMITS,
            headers={"User-Agent": "shebao-h5/0.1", **(headers or {})},
            follow_redirects=False,
            transport=transport,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        request_id: str = "",
    ) -> httpx.Response:
        """Send one request and return the response, whatever its status.

        Raises ``ProviderUnavailable`` (or the mapped error) on timeout or any
        transport error; HTTP error statuses are for the caller to interpret."""
        method = method.upper()
        path = urlsplit(url).path or "/"
        rid = request_id or request_id_var.get()
        started = time.perf_counter()
        try:
            response = self._client.request(method, url, params=params, data=data, content=content, json=json, headers=headers)
        except httpx.TransportError as exc:
            kind = _kind(exc)
            self._log(logging.WARNING, method, path, None, started, rid, error=kind)
            error = ProviderUnavailable(
                f"{self.provider} {method} {path}: {kind} ({type(exc).__name__})", provider=self.provider, kind=kind
            )
            if self._unavailable is None:
                raise error from exc
            raise self._unavailable(error) from exc
        level = logging.WARNING if response.status_code >= 500 else logging.INFO
        self._log(level, method, path, response.status_code, started, rid)
        return response

    def _log(self, level: int, method: str, path: str, status: int | None, started: float, rid: str, *, error: str = "") -> None:
        duration_ms = round((time.perf_counter() - started) * 1000)
        extra = {
            "provider": self.provider,
            "http_method": method,
            "http_path": path,
            "status": status,
            "duration_ms": duration_ms,
            "outgoing_request_id": rid,
        }
        if error:
            extra["error"] = error
        logger.log(
            level, "outgoing http %s %s %s -> %s in %d ms", self.provider, method, path, status or error, duration_ms, extra=extra
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OutgoingHttp:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
