"""Aliyun SMS (Dysmsapi 2017-05-25) ``SendSms``, signed with Alibaba Cloud's signature v3.

Protocol (reference/interfaces.md §6.1; Alibaba Cloud "V3 版本请求体 & 签名机制", the
scheme its current official SDK ``alibabacloud_dysmsapi20170525`` uses by default):
- ``POST /`` to the endpoint (``https://dysmsapi.aliyuncs.com/`` in production, the loopback
  simulator in development), the action's parameters as an ``application/x-www-form-urlencoded``
  body (so the phone number never sits in a URL), and the common request headers
  ``host, x-acs-action, x-acs-version, x-acs-date (yyyy-MM-ddTHH:mm:ssZ, UTC),
  x-acs-signature-nonce, x-acs-content-sha256 (hex SHA-256 of the body), content-type``.
- ``Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<names>,Signature=<hex>``:
  HMAC-SHA256 with the AccessKey secret over ``ACS3-HMAC-SHA256\n`` + hex SHA-256 of the canonical
  request ``METHOD\n/\nQUERY\nHEADERS\nSIGNED_HEADERS\nHASHED_BODY`` (see ``canonical_request``).
  The URI is ``/``: the path relative to the endpoint, also under the simulator's mount.
- Business errors come back as JSON ``{"Code": ..., "Message": ...}`` (HTTP 200 for ``isv.*``,
  4xx for authentication errors, 5xx for the gateway's own failures).

SendSms has no idempotency: this client never retries; ``SmsError.retryable`` tells
the caller (a task queue) whether trying again makes sense.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import quote

import httpx

from shebao.adapters.http import OutgoingHttp, ProviderUnavailable
from shebao.adapters.sms.port import SmsError, SmsRateLimited, SmsResult
from shebao.common import clock as clock_module
from shebao.common.masking import mask_mobile
from shebao.common.metrics import SMS, count

logger = logging.getLogger("shebao.adapters")

API_VERSION = "2017-05-25"
PROVIDER = "aliyun-sms"
SIGNATURE_ALGORITHM = "ACS3-HMAC-SHA256"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# Per-number flow control and the account's daily quota: final for this request.
RATE_LIMIT_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"})
# The gateway's own trouble: the same request may succeed later.
RETRYABLE_CODES = frozenset(
    {"isp.SYSTEM_ERROR", "InternalError", "ServiceUnavailable", "Throttling", "Throttling.User", "Throttling.Api"}
)

# Aliyun's flow-control messages name the window: "触发分钟级流控Permits:1",
# "触发小时级流控Permits:5", "触发天级流控Permits:10"; isv.DAY_LIMIT_CONTROL is the account's quota.
_FLOW_WINDOWS = (("分钟级", "minute"), ("小时级", "hour"), ("天级", "day"), ("日级", "day"))

_TRANSPORT_CODES = {"timeout": "Timeout", "unreachable": "Unreachable", "transport": "TransportError"}


def percent_encode(value: str) -> str:
    """Alibaba Cloud percent-encoding: UTF-8, RFC 3986 unreserved characters
    (``A-Z a-z 0-9 - _ . ~``) kept, everything else ``%XY`` in upper-case hex —
    so a space is ``%20`` (not ``+``), ``*`` is ``%2A`` and ``~`` stays."""
    return quote(value.encode("utf-8"), safe="~")


def encoded_pairs(params: Mapping[str, str]) -> str:
    """``pe(name)=pe(value)`` sorted by name, joined with ``&``: the canonical query string of
    signature v3, and the form body this client sends (any form parser reads ``%20``)."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def canonical_request(*, method: str, pathname: str, query: Mapping[str, str], headers: Mapping[str, str],
                      hashed_payload: str) -> tuple[str, str]:
    """Signature v3 canonical request and its SignedHeaders: ``METHOD``, the URI, the canonical
    query, then every header ``name:value`` (names lower-case, values trimmed, sorted by name,
    each line ``\n``-terminated), the ``;``-joined names, and the hex SHA-256 of the body."""
    lowered = sorted((name.lower(), str(value).strip()) for name, value in headers.items())
    signed_headers = ";".join(name for name, _ in lowered)
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in lowered)
    parts = [method.upper(), pathname, encoded_pairs(query), canonical_headers, signed_headers, hashed_payload]
    return "\n".join(parts), signed_headers


def acs3_authorization(*, method: str, pathname: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes,
                       access_key_id: str, secret: str) -> str:
    """The ``Authorization`` header of signature v3 (ACS3-HMAC-SHA256) over ``headers`` (all signed)."""
    canonical, signed_headers = canonical_request(method=method, pathname=pathname, query=query, headers=headers,
                                                  hashed_payload=hashlib.sha256(body).hexdigest())
    to_sign = f"{SIGNATURE_ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    signature = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{SIGNATURE_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"


def format_timestamp(moment: dt.datetime) -> str:
    """Alibaba Cloud ``x-acs-date``: ISO 8601 in UTC to the second, ``yyyy-MM-ddTHH:mm:ssZ``."""
    if moment.tzinfo is None:
        raise ValueError("Timestamp needs an aware datetime")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _service_now() -> dt.datetime:
    """The service's one clock, looked up at each call (tests freeze ``clock.now``)."""
    return clock_module.now()


class AliyunSmsGateway:
    """Production client of the Sms port for Aliyun Dysmsapi ``SendSms``."""

    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        timeout: float,
        clock: Callable[[], dt.datetime] = _service_now,
        nonce_factory: Callable[[], str] = lambda: uuid.uuid4().hex,
        http: OutgoingHttp | None = None,
        notice_templates: Mapping[str, str] | None = None,
    ):
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.notice_templates = {name: code for name, code in (notice_templates or {}).items() if code}
        self._host = httpx.URL(endpoint).netloc.decode("ascii")
        self._clock = clock
        self._nonce = nonce_factory
        self._http = http or OutgoingHttp(provider=PROVIDER, timeout=timeout, unavailable=_transport_error)

    def signed_request(self, action: str, action_params: Mapping[str, str]) -> tuple[dict[str, str], bytes]:
        """Headers and form body of one signature-v3 POST (fresh nonce, current ``x-acs-date``)."""
        body = encoded_pairs(action_params).encode("ascii")
        headers = {
            "host": self._host,  # sent as signed (httpx keeps an explicit Host header)
            "x-acs-action": action,
            "x-acs-version": API_VERSION,
            "x-acs-date": format_timestamp(self._clock()),
            "x-acs-signature-nonce": self._nonce(),
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
            "content-type": FORM_CONTENT_TYPE,
        }
        headers["Authorization"] = acs3_authorization(method="POST", pathname="/", query={}, headers=headers, body=body,
                                                      access_key_id=self.access_key_id, secret=self._secret)
        return headers, body

    def send_code(self, *, mobile: str, code: str, request_id: str) -> SmsResult:
        """Dysmsapi ``SendSms`` of the verification-code template to one number:
        ``TemplateParam`` is ``{"code": "<code>"}`` (JSON, string values only),
        ``OutId`` carries our request id. Raises ``SmsRateLimited`` on per-number
        flow control, ``SmsError`` (``retryable`` set) on anything else."""
        return self._send(mobile=mobile, template_code=self.template_code, params={"code": str(code)}, request_id=request_id)

    def send_notice(self, *, mobile: str, notice: str, params: Mapping[str, str], request_id: str) -> SmsResult:
        """``SendSms`` of a notice template (``notice_templates`` maps its name to the
        Aliyun TemplateCode); the same errors as ``send_code``."""
        template_code = self.notice_templates.get(notice)
        if not template_code:
            raise SmsError(f"no SMS template configured for notice {notice!r}", code="NoTemplate")
        return self._send(mobile=mobile, template_code=template_code, params={k: str(v) for k, v in params.items()}, request_id=request_id)

    def _send(self, *, mobile: str, template_code: str, params: Mapping[str, str], request_id: str) -> SmsResult:
        headers, body = self.signed_request(
            "SendSms",
            {
                "PhoneNumbers": mobile,
                "SignName": self.sign_name,
                "TemplateCode": template_code,
                "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
                "OutId": request_id,
            },
        )
        log_fields = {"provider": PROVIDER, "mobile_masked": mask_mobile(mobile), "outgoing_request_id": request_id}
        try:
            response = self._http.request("POST", self.endpoint, content=body, headers=headers, request_id=request_id)
            result = interpret_send_response(response)
        except SmsError as exc:
            logger.warning(
                "sms send failed: %s", exc.code, extra={**log_fields, "sms_code": exc.code, "retryable": exc.retryable}
            )
            count(SMS, str(exc.code)[:64])
            raise
        logger.info("sms sent", extra={**log_fields, "provider_ref": result.provider_ref})
        count(SMS, "sent")
        return result

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._http.close()


def _transport_error(error: ProviderUnavailable) -> SmsError:
    """Timeouts and transport failures are retryable (the message may or may not
    have left: SendSms has no idempotency, callers dedupe)."""
    return SmsError(str(error), code=_TRANSPORT_CODES[error.kind], retryable=True)


def flow_control_window(code: str, message: str) -> str:
    """Which limit a flow-control refusal names (see ``SmsRateLimited.window``)."""
    if code == "isv.DAY_LIMIT_CONTROL":
        return "account_day"
    return next((window for marker, window in _FLOW_WINDOWS if marker in message), "")


def interpret_send_response(response: httpx.Response) -> SmsResult:
    """Dysmsapi answer → port vocabulary: ``Code == "OK"`` → ``SmsResult(BizId)``;
    ``isv.BUSINESS_LIMIT_CONTROL`` / ``isv.DAY_LIMIT_CONTROL`` → ``SmsRateLimited``;
    ``isp.SYSTEM_ERROR``, throttling and any HTTP 5xx → retryable ``SmsError``;
    every other code (``isv.MOBILE_NUMBER_ILLEGAL``, ``SignatureDoesNotMatch``, ...) → final."""
    status = response.status_code
    try:
        body = response.json()
        code = str(body.get("Code", ""))
    except (ValueError, AttributeError):
        retryable = not 400 <= status < 500
        raise SmsError(
            f"aliyun-sms answered HTTP {status} without a JSON body", code="InvalidResponse", retryable=retryable
        ) from None
    message = str(body.get("Message", ""))
    if code == "OK" and status == 200:
        biz_id = body.get("BizId")
        if not biz_id:
            raise SmsError("aliyun-sms answered OK without a BizId", code="InvalidResponse", retryable=True)
        return SmsResult(provider_ref=str(biz_id))
    text = f"{code or 'HTTP ' + str(status)}: {message}"
    if code in RATE_LIMIT_CODES:
        raise SmsRateLimited(text, code=code, window=flow_control_window(code, message))
    raise SmsError(text, code=code or f"HTTP{status}", retryable=code in RETRYABLE_CODES or status >= 500)
