"""Aliyun SMS (Dysmsapi 2017-05-25) ``SendSms`` over the RPC style API.

Protocol (reference/interfaces.md §6.1, Aliyun "RPC 签名机制" v1):
- POST ``application/x-www-form-urlencoded`` to the endpoint (``https://dysmsapi.aliyuncs.com/``
  in production, the loopback simulator in development), common parameters
  ``Action, Version, Format, AccessKeyId, SignatureMethod=HMAC-SHA1, SignatureVersion=1.0,
  SignatureNonce, Timestamp (yyyy-MM-ddTHH:mm:ssZ, UTC), RegionId`` plus the action's own.
- ``Signature = base64(HMAC-SHA1(secret + "&", METHOD + "&%2F&" + pe(canonical query)))``.
- Business errors come back as JSON ``{"Code": ..., "Message": ...}`` (HTTP 200 for ``isv.*``,
  4xx for authentication errors, 5xx for the gateway's own failures).

SendSms has no idempotency: this client never retries; ``SmsError.retryable`` tells
the caller (a task queue) whether trying again makes sense.
"""

from __future__ import annotations

import base64
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

logger = logging.getLogger("shebao.adapters")

API_VERSION = "2017-05-25"
REGION_ID = "cn-hangzhou"
PROVIDER = "aliyun-sms"

# Per-number flow control and the account's daily quota: final for this request.
RATE_LIMIT_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"})
# The gateway's own trouble: the same request may succeed later.
RETRYABLE_CODES = frozenset(
    {"isp.SYSTEM_ERROR", "InternalError", "ServiceUnavailable", "Throttling", "Throttling.User", "Throttling.Api"}
)

_TRANSPORT_CODES = {"timeout": "Timeout", "unreachable": "Unreachable", "transport": "TransportError"}


def percent_encode(value: str) -> str:
    """Aliyun RPC percent-encoding: UTF-8, RFC 3986 unreserved characters
    (``A-Z a-z 0-9 - _ . ~``) kept, everything else ``%XY`` in upper-case hex —
    so a space is ``%20`` (not ``+``), ``*`` is ``%2A`` and ``~`` stays."""
    return quote(value.encode("utf-8"), safe="~")


def canonicalized_query(params: Mapping[str, str]) -> str:
    """Aliyun RPC canonicalized query string: every parameter except ``Signature``,
    sorted by name, each ``pe(name)=pe(value)``, joined with ``&``."""
    items = sorted((k, v) for k, v in params.items() if k != "Signature")
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in items)


def string_to_sign(params: Mapping[str, str], *, method: str = "POST") -> str:
    """Aliyun RPC StringToSign: ``METHOD & pe("/") & pe(canonicalized query)``."""
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonicalized_query(params))}"


def rpc_signature(params: Mapping[str, str], secret: str, *, method: str = "POST") -> str:
    """Aliyun RPC signature v1 (HMAC-SHA1): base64 of HMAC-SHA1 over the
    StringToSign, keyed with the AccessKey secret followed by ``&``."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(params, method=method).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def format_timestamp(moment: dt.datetime) -> str:
    """Aliyun RPC ``Timestamp``: ISO 8601 in UTC to the second, ``yyyy-MM-ddTHH:mm:ssZ``."""
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
        region_id: str = REGION_ID,
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
        self.region_id = region_id
        self._clock = clock
        self._nonce = nonce_factory
        self._http = http or OutgoingHttp(provider=PROVIDER, timeout=timeout, unavailable=_transport_error)

    def signed_params(self, action_params: Mapping[str, str]) -> dict[str, str]:
        """Aliyun RPC request: the common parameters (fresh ``SignatureNonce``, current
        ``Timestamp``) plus ``action_params``, signed with signature v1 for POST."""
        params = {
            "Action": "SendSms",
            "Version": API_VERSION,
            "Format": "JSON",
            "AccessKeyId": self.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": self._nonce(),
            "Timestamp": format_timestamp(self._clock()),
            "RegionId": self.region_id,
            **action_params,
        }
        params["Signature"] = rpc_signature(params, self._secret, method="POST")
        return params

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
        params = self.signed_params(
            {
                "PhoneNumbers": mobile,
                "SignName": self.sign_name,
                "TemplateCode": template_code,
                "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
                "OutId": request_id,
            }
        )
        log_fields = {"provider": PROVIDER, "mobile_masked": mask_mobile(mobile), "outgoing_request_id": request_id}
        try:
            response = self._http.request("POST", self.endpoint, data=params, request_id=request_id)
            result = interpret_send_response(response)
        except SmsError as exc:
            logger.warning(
                "sms send failed: %s", exc.code, extra={**log_fields, "sms_code": exc.code, "retryable": exc.retryable}
            )
            raise
        logger.info("sms sent", extra={**log_fields, "provider_ref": result.provider_ref})
        return result

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._http.close()


def _transport_error(error: ProviderUnavailable) -> SmsError:
    """Timeouts and transport failures are retryable (the message may or may not
    have left: SendSms has no idempotency, callers dedupe)."""
    return SmsError(str(error), code=_TRANSPORT_CODES[error.kind], retryable=True)


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
        raise SmsRateLimited(text, code=code)
    raise SmsError(text, code=code or f"HTTP{status}", retryable=code in RETRYABLE_CODES or status >= 500)
