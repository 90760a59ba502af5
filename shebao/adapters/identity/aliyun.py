"""Aliyun ID Verification (Cloudauth 2019-03-07) ``Mobile3MetaDetailVerify``: the carrier
three-element check (手机号三要素核验详版) over the RPC style API.

Protocol (reference/identity-check.md):
- POST ``application/x-www-form-urlencoded`` to the endpoint (``https://cloudauth.aliyuncs.com/``
  in production, the loopback simulator in development), with the Aliyun RPC common
  parameters and signature v1 — the same scheme as Dysmsapi ``SendSms``, so the signing
  code is the SMS adapter's (``shebao.adapters.sms.aliyun``), not a copy.
- Action parameters: ``ParamType`` (``md5`` by default: each value sent as the 32-char
  lower-case MD5 of its UTF-8 text, so the plain name, ID number and mobile never cross the
  wire; ``normal`` sends them plain), ``UserName``, ``IdentifyNum``, ``Mobile``.
- Answer: JSON ``{"RequestId", "Code": "200", "Message", "ResultObject": {"BizCode", "SubCode",
  "IspName"}}``. ``BizCode`` 1 consistent (billed), 2 inconsistent (billed), 3 no record (not
  billed); ``SubCode`` 101 passed, 201 the number matches neither name nor ID, 202 the name
  matches but the ID does not, 203 the ID matches but the name does not, 301 no record.
- Errors: JSON ``{"Code", "Message", "RequestId"}`` with an HTTP error status, e.g. 400
  ``MissingParameter`` / ``Forbidden.ExceptionRepeatedInvoke``, 401 ``InvalidParameter``,
  403 ``Forbidden.AccountAccessDenied`` (service not activated), 5xx the gateway's own.

The call is billed and has no idempotency; this client never retries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping

import httpx

from shebao.adapters.aliyun_rpc import rpc_signature
from shebao.adapters.http import OutgoingHttp, ProviderUnavailable
from shebao.adapters.identity.port import IdentityCheckUnavailable, IdentityOutcome, IdentityVerdict, Mismatch
from shebao.adapters.sms.aliyun import format_timestamp
from shebao.common import clock as clock_module
from shebao.common.masking import mask_mobile
from shebao.common.metrics import IDENTITY_CHECKS, count

logger = logging.getLogger("shebao.adapters")

ACTION = "Mobile3MetaDetailVerify"
API_VERSION = "2019-03-07"
PROVIDER = "aliyun-cloudauth"
PARAM_TYPES = ("md5", "normal")
# Our IdType codes the carriers' records know: the resident ID card and the residence
# permits of Hong Kong, Macao and Taiwan residents (18 digits, the same scheme).
SUPPORTED_ID_TYPES = frozenset({"201", "237", "238"})

_BIZ_OUTCOME = {"1": IdentityOutcome.CONSISTENT, "2": IdentityOutcome.INCONSISTENT, "3": IdentityOutcome.NO_RECORD}
_SUB_MISMATCH = {"201": Mismatch.BOTH, "202": Mismatch.ID_NUMBER, "203": Mismatch.NAME}
# The gateway's own trouble and flow control: the same request may succeed later.
RETRYABLE_CODES = frozenset(
    {"ServiceUnavailable", "InternalError", "Throttling", "Throttling.User", "Throttling.Api", "Forbidden.ExceptionRepeatedInvoke"}
)
_TRANSPORT_CODES = {"timeout": "Timeout", "unreachable": "Unreachable", "transport": "TransportError"}


def md5_hex(value: str) -> str:
    """``ParamType=md5``: the 32-character lower-case hex MD5 of the value's UTF-8 bytes."""
    return hashlib.md5(value.encode("utf-8"), usedforsecurity=False).hexdigest()


def _service_now() -> dt.datetime:
    return clock_module.now()


class AliyunMobile3MetaCheck:
    """Production client of the IdentityCheck port for Aliyun ``Mobile3MetaDetailVerify``."""

    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        timeout: float,
        param_type: str = "md5",
        clock: Callable[[], dt.datetime] = _service_now,
        nonce_factory: Callable[[], str] = lambda: uuid.uuid4().hex,
        http: OutgoingHttp | None = None,
    ):
        if param_type not in PARAM_TYPES:
            raise ValueError(f"param_type must be one of {PARAM_TYPES}")
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.param_type = param_type
        self._clock = clock
        self._nonce = nonce_factory
        self._http = http or OutgoingHttp(provider=PROVIDER, timeout=timeout, unavailable=_transport_error)

    def supports(self, id_type: str) -> bool:
        return id_type in SUPPORTED_ID_TYPES

    def signed_params(self, action_params: Mapping[str, str]) -> dict[str, str]:
        """Aliyun RPC request: common parameters (fresh ``SignatureNonce``, current
        ``Timestamp``) plus ``action_params``, signed with signature v1 for POST."""
        params = {
            "Action": ACTION,
            "Version": API_VERSION,
            "Format": "JSON",
            "AccessKeyId": self.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": self._nonce(),
            "Timestamp": format_timestamp(self._clock()),
            **action_params,
        }
        params["Signature"] = rpc_signature(params, self._secret, method="POST")
        return params

    def action_params(self, *, name: str, id_number: str, mobile: str) -> dict[str, str]:
        """The three elements as ``ParamType`` wants them. The ID number is upper-cased
        first (a final ``x`` is the check digit ``X``), so its MD5 is the one the vendor computes."""
        values = {"UserName": name.strip(), "IdentifyNum": id_number.strip().upper(), "Mobile": mobile.strip()}
        if self.param_type == "md5":
            values = {key: md5_hex(value) for key, value in values.items()}
        return {"ParamType": self.param_type, **values}

    def check_mobile(self, *, name: str, id_type: str, id_number: str, mobile: str, request_id: str = "") -> IdentityVerdict:
        if not self.supports(id_type):
            raise ValueError(f"id_type {id_type!r} cannot be checked against the carriers' records")
        params = self.signed_params(self.action_params(name=name, id_number=id_number, mobile=mobile))
        log_fields = {"provider": PROVIDER, "mobile_masked": mask_mobile(mobile), "outgoing_request_id": request_id}
        try:
            response = self._http.request("POST", self.endpoint, data=params, request_id=request_id)
            verdict = interpret_verify_response(response)
        except IdentityCheckUnavailable as exc:
            logger.warning("identity check unavailable: %s", exc.code, extra={**log_fields, "vendor_code": exc.code, "retryable": exc.retryable})
            count(IDENTITY_CHECKS, "unavailable")
            raise
        logger.info(
            "identity check %s", verdict.outcome,
            extra={**log_fields, "outcome": str(verdict.outcome), "mismatch": str(verdict.mismatch), "provider_ref": verdict.provider_ref},
        )
        count(IDENTITY_CHECKS, str(verdict.outcome))
        return verdict

    def close(self) -> None:
        self._http.close()


def _transport_error(error: ProviderUnavailable) -> IdentityCheckUnavailable:
    return IdentityCheckUnavailable(str(error), code=_TRANSPORT_CODES[error.kind], retryable=True)


def interpret_verify_response(response: httpx.Response) -> IdentityVerdict:
    """Cloudauth answer → port vocabulary. ``Code == "200"`` with a known ``BizCode`` →
    a verdict (``SubCode`` → which element disagrees); anything else — an error code, a
    missing or unknown ``BizCode``, a body that is not JSON — → ``IdentityCheckUnavailable``
    (``retryable`` for 5xx, throttling and repeated-invocation refusals)."""
    status = response.status_code
    try:
        body = response.json()
        code = str(body.get("Code", ""))
    except (ValueError, AttributeError):
        raise IdentityCheckUnavailable(
            f"{PROVIDER} answered HTTP {status} without a JSON body", code="InvalidResponse", retryable=status >= 500
        ) from None
    request_id = str(body.get("RequestId", ""))
    if status != 200 or code != "200":
        text = f"{code or 'HTTP ' + str(status)}: {body.get('Message', '')}"
        raise IdentityCheckUnavailable(text, code=code or f"HTTP{status}", retryable=code in RETRYABLE_CODES or status >= 500)
    result = body.get("ResultObject")
    biz_code = str(result.get("BizCode", "")) if isinstance(result, dict) else ""
    outcome = _BIZ_OUTCOME.get(biz_code)
    if outcome is None:
        raise IdentityCheckUnavailable(f"{PROVIDER} answered 200 without a known BizCode ({biz_code!r})", code="InvalidResponse")
    mismatch = Mismatch.NONE
    if outcome is IdentityOutcome.INCONSISTENT:
        mismatch = _SUB_MISMATCH.get(str(result.get("SubCode", "")), Mismatch.OTHER)
    return IdentityVerdict(outcome=outcome, mismatch=mismatch, provider_ref=request_id[:64])
