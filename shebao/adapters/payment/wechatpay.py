"""Production client of the payment port for WeChat Pay API v3, JSAPI (公众号支付).

Protocol: interfaces.md §4 — signed requests (§4.1), JSAPI order (§4.2), errors
(§4.3), out_trade_no idempotency (§4.4), ``getBrandWCPayRequest`` parameters
(§4.5), notifications (§4.6), query (§4.7), close (§4.8) and the trade bill.
Every answer's Wechatpay-* signature is verified with the WeChat Pay public key
("微信支付公钥" mode, serial ``PUB_KEY_ID_…``) before its body is read.

Nothing here retries: ``PaymentError.retryable`` tells the caller that the
IDENTICAL request may be sent again. Never logged: keys, signatures, openids,
request or response bodies.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from shebao.adapters.http import POOL_LIMITS, OutgoingHttp, ProviderUnavailable
from shebao.adapters.payment.port import (
    Bill,
    ChannelTransaction,
    LaunchParams,
    NotificationRejected,
    OrderAlreadyPaid,
    OutTradeNoUsed,
    PaymentError,
    StatementLine,
)
from shebao.adapters.payment.signing import (
    DECRYPT_ERRORS,
    SignatureInvalid,
    SigningTransport,
    decrypt_resource,
    load_private_key,
    load_public_key,
    new_nonce,
    normalize_headers,
    pay_sign,
    verify_signed,
)
from shebao.adapters.payment.tradebill import check_hash, parse_trade_bill
from shebao.adapters.payment.wechatpay_messages import check_out_trade_no, jsapi_order_body, transaction_from
from shebao.adapters.payment.wechatpay_refunds import RefundsMixin
from shebao.common import clock as clock_module

MAX_NOTIFICATION_BYTES = 64 * 1024  # a real §4.6 notification is ~1-2 KiB; refused unread above this

logger = logging.getLogger("shebao.adapters")

PROVIDER = "wechatpay"
# §4.3: the same request may succeed later ("retry with identical parameters").
RETRYABLE_CODES = frozenset({"SYSTEM_ERROR", "SYSTEMERROR", "FREQUENCY_LIMITED", "BANKERROR", "STATEMENT_CREATING"})
FINAL_CODES = frozenset({"OPENID_MISMATCH"})  # answered with HTTP 500 but caused by the request
_CODE_ALIASES = {"ORDERNOTEXIST": "ORDER_NOT_EXIST", "ORDER_PAID": "ORDERPAID"}
_TRANSPORT_CODES = {"timeout": "TIMEOUT", "unreachable": "UNREACHABLE", "transport": "TRANSPORT_ERROR"}


def _service_now() -> dt.datetime:
    """The service's one clock, looked up at each call (tests freeze ``clock.now``)."""
    return clock_module.now()


def _unavailable(error: ProviderUnavailable) -> PaymentError:
    """Timeouts and transport failures: retryable, and the outcome is unknown (query to resolve)."""
    return PaymentError(str(error), code=_TRANSPORT_CODES[error.kind], retryable=True)


class WechatPayV3Channel(RefundsMixin):
    """The :class:`~shebao.adapters.payment.port.PaymentChannel` port over WeChat Pay API v3 JSAPI
    (refunds in :mod:`~shebao.adapters.payment.wechatpay_refunds`)."""

    name = "wechatpay"
    label = "微信支付"

    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        merchant_serial_no: str,
        merchant_private_key_pem: str,
        apiv3_key: str,
        platform_public_key_pem: str,
        platform_public_key_id: str,
        base_url: str,
        notify_url: str,
        timeout: float,
        cashier_url: str | None = None,
        refund_notify_url: str | None = None,
        clock: Callable[[], dt.datetime] = _service_now,
        transport: httpx.BaseTransport | None = None,
    ):
        notify = urlsplit(notify_url)
        if notify.scheme not in ("http", "https") or not notify.netloc or notify.query or len(notify_url) > 255:
            raise ValueError("notify_url must be an absolute http(s) URL without a query string, at most 255 characters")
        if len(apiv3_key.encode()) != 32:
            raise ValueError("the APIv3 key must be 32 ASCII characters")
        self.mchid, self.appid = mchid, appid
        self.base_url = base_url.rstrip("/")
        self.notify_url = notify_url
        self.refund_notify_url = refund_notify_url or notify_url
        self.cashier_url = cashier_url or None
        self._merchant_key = load_private_key(merchant_private_key_pem)
        self._apiv3_key = apiv3_key
        self._platform_keys = {platform_public_key_id: load_public_key(platform_public_key_pem)}
        self._clock = clock
        signing = SigningTransport(
            transport or httpx.HTTPTransport(limits=POOL_LIMITS), mchid=mchid, serial_no=merchant_serial_no, private_key=self._merchant_key,
            clock=clock, base_path=urlsplit(self.base_url).path,
        )
        self._http = OutgoingHttp(
            provider=PROVIDER, timeout=timeout, unavailable=_unavailable, headers={"Accept": "application/json"}, transport=signing
        )

    def __repr__(self) -> str:  # keeps key material out of tracebacks and debug pages
        return f"WechatPayV3Channel(mchid={self.mchid!r}, appid={self.appid!r}, base_url={self.base_url!r})"

    # --- the port -------------------------------------------------------------------

    def create(self, bill: Bill) -> LaunchParams:
        """JSAPI下单 ``POST /v3/pay/transactions/jsapi`` (§4.2) then the §4.5 launch parameters.

        Idempotent (§4.4): the same bill (same out_trade_no and fields) gets the same
        prepay_id back; changed fields raise ``OutTradeNoUsed``; a paid order raises
        ``OrderAlreadyPaid``; a closed one ``PaymentError(code="ORDER_CLOSED")``."""
        body = jsapi_order_body(bill, appid=self.appid, mchid=self.mchid, notify_url=self.notify_url)
        response = self._call("POST", "/v3/pay/transactions/jsapi", json=body)
        prepay_id = self._json(response).get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise PaymentError("wechatpay answered without a prepay_id", code="INVALID_RESPONSE", retryable=True)
        logger.info("wechatpay order created", extra={"provider": PROVIDER, "out_trade_no": bill.out_trade_no, "amount_fen": bill.amount_fen})
        return self.launch_params(prepay_id, return_url=bill.return_url)

    def launch_params(self, prepay_id: str, *, return_url: str | None = None) -> LaunchParams:
        """``getBrandWCPayRequest`` arguments (§4.5) with a fresh timestamp and nonce; plus,
        when a development cashier is configured, its URL (there is no WeixinJSBridge there)."""
        timestamp, nonce, package = str(int(self._clock().timestamp())), new_nonce(), f"prepay_id={prepay_id}"
        params = {
            "appId": self.appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": pay_sign(self._merchant_key, app_id=self.appid, timestamp=timestamp, nonce=nonce, package=package),
        }
        cashier = None
        if self.cashier_url:
            query = {"prepay_id": prepay_id, **({"return_url": return_url} if return_url else {})}
            cashier = f"{self.cashier_url}?{urlencode(query)}"
        return LaunchParams(channel=self.name, kind="jsapi", params=params, cashier_url=cashier)

    def query(self, out_trade_no: str) -> ChannelTransaction:
        """查询订单 ``GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=`` (§4.7).
        An unknown order raises ``PaymentError(code="ORDER_NOT_EXIST")`` (final)."""
        path = f"{self._order_path(out_trade_no)}?{urlencode({'mchid': self.mchid})}"
        data = self._json(self._call("GET", path))
        try:
            transaction = transaction_from(data, mchid=self.mchid, appid=self.appid)
        except ValueError as exc:
            raise PaymentError(f"wechatpay query answer unusable: {exc}", code="INVALID_RESPONSE", retryable=True) from None
        if transaction.out_trade_no != out_trade_no:
            raise PaymentError("wechatpay answered about another order", code="INVALID_RESPONSE", retryable=False)
        return transaction

    def close(self, out_trade_no: str) -> None:
        """关闭订单 ``POST …/out-trade-no/{out_trade_no}/close`` ``{"mchid"}`` → 204 (§4.8).
        A paid order raises ``OrderAlreadyPaid``; closing a closed order succeeds."""
        response = self._call("POST", f"{self._order_path(out_trade_no)}/close", json={"mchid": self.mchid})
        if response.status_code != 204:
            raise PaymentError(f"wechatpay close answered HTTP {response.status_code}", code="INVALID_RESPONSE", retryable=True)

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> ChannelTransaction:
        """支付通知 (§4.6): verify the Wechatpay-* signature over the raw body first, then
        decrypt the AEAD_AES_256_GCM resource with the APIv3 key and read the Transaction.
        Any failure raises ``NotificationRejected`` (answer 4xx; WeChat retries)."""
        data = self._open_notification(headers, body, event_prefix="TRANSACTION.", original_type="transaction")
        try:
            if data.get("appid") != self.appid:
                raise NotificationRejected("merchant_mismatch")
            return transaction_from(data, mchid=self.mchid, appid=self.appid)
        except (ValueError, AttributeError, TypeError, RecursionError):
            raise NotificationRejected("malformed", "transaction") from None

    def _open_notification(self, headers: Mapping[str, str], body: bytes, *, event_prefix: str, original_type: str) -> dict[str, Any]:
        """The verified, decrypted resource of a notification of the expected kind (its mchid ours)."""
        try:
            verify_signed(normalize_headers(headers), body, public_keys=self._platform_keys, now=self._clock().timestamp())
        except SignatureInvalid as exc:
            logger.warning("wechatpay notification rejected: %s", exc.reason, extra={"provider": PROVIDER, "reason": exc.reason})
            raise NotificationRejected(exc.reason) from None
        if len(body) > MAX_NOTIFICATION_BYTES:
            raise NotificationRejected("malformed", "body too large")
        try:
            envelope = json.loads(body)
            resource = envelope["resource"]
            event_type, algorithm = str(envelope["event_type"]), resource["algorithm"]
            nonce, associated_data, ciphertext = resource["nonce"], resource.get("associated_data", ""), resource["ciphertext"]
        except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: nesting too deep for json
            raise NotificationRejected("malformed", "envelope") from None
        if not event_type.startswith(event_prefix) or resource.get("original_type", original_type) != original_type:
            raise NotificationRejected("unexpected_event", event_type)
        if algorithm != "AEAD_AES_256_GCM":
            raise NotificationRejected("malformed", f"algorithm {algorithm}")
        try:
            plaintext = decrypt_resource(self._apiv3_key, nonce=nonce, associated_data=associated_data, ciphertext_b64=ciphertext)
        except DECRYPT_ERRORS:
            raise NotificationRejected("decrypt_failed") from None
        try:
            data = json.loads(plaintext)
        except (ValueError, RecursionError):
            raise NotificationRejected("malformed", original_type) from None
        if not isinstance(data, dict):
            raise NotificationRejected("malformed", original_type)
        if data.get("mchid") != self.mchid:
            raise NotificationRejected("merchant_mismatch")
        return data

    def statement(self, bill_date: dt.date) -> list[StatementLine]:
        """申请交易账单 ``GET /v3/bill/tradebill?bill_date=&bill_type=ALL`` then the signed
        download; the file must match ``hash_value``. No trades that day (``NO_STATEMENT_EXIST``)
        is an empty list; a bill still being generated is a retryable error."""
        path = f"/v3/bill/tradebill?{urlencode({'bill_date': bill_date.isoformat(), 'bill_type': 'ALL'})}"
        try:
            data = self._json(self._call("GET", path))
        except PaymentError as exc:
            if exc.code == "NO_STATEMENT_EXIST":
                return []
            raise
        download_url, hash_type, hash_value = data.get("download_url"), data.get("hash_type"), data.get("hash_value")
        if not all(isinstance(v, str) and v for v in (download_url, hash_type, hash_value)):
            raise PaymentError("wechatpay tradebill answer incomplete", code="INVALID_RESPONSE", retryable=True)
        base, target = urlsplit(self.base_url), urlsplit(download_url)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):  # never send our signature elsewhere
            raise PaymentError("wechatpay download_url on a foreign host", code="INVALID_RESPONSE", retryable=False)
        # The file stream is not signed by WeChat Pay (its SDKs skip verification); the hash stands in.
        response = self._http.request("GET", download_url)
        if response.status_code != 200:
            self._verify(response)
            self._raise_for_error(response)
        check_hash(response.content, hash_type=hash_type, hash_value=hash_value)
        return parse_trade_bill(response.content)

    def close_session(self) -> None:
        """Release the HTTP connection pool."""
        self._http.close()

    # --- request building and answer checking -----------------------------------------

    @staticmethod
    def _order_path(out_trade_no: str) -> str:
        return f"/v3/pay/transactions/out-trade-no/{quote(check_out_trade_no(out_trade_no), safe='')}"

    def _call(self, method: str, path_with_query: str, *, json: Any = None) -> httpx.Response:
        """Send a signed request; return the answer only once its signature is verified and it is 2xx."""
        response = self._http.request(method, self.base_url + path_with_query, json=json)
        self._verify(response)
        if not 200 <= response.status_code < 300:
            self._raise_for_error(response)
        return response

    def _verify(self, response: httpx.Response) -> None:
        """§4.1 answer verification. An unsigned non-2xx answer comes from something in front
        of WeChat Pay (a gateway): its status is used, its body never believed."""
        headers = normalize_headers(response.headers)
        status = response.status_code
        if not 200 <= status < 300 and "wechatpay-signature" not in headers:
            self._log_refusal(response, code=f"HTTP_{status}")
            raise PaymentError(f"wechatpay answered HTTP {status} unsigned", code=f"HTTP_{status}",
                               retryable=status >= 500 or status == 429, http_status=status)
        try:
            verify_signed(headers, response.content, public_keys=self._platform_keys, now=self._clock().timestamp())
        except SignatureInvalid as exc:
            self._log_refusal(response, code="RESPONSE_SIGNATURE_INVALID", reason=exc.reason)
            raise PaymentError(f"wechatpay answer failed verification ({exc.reason}); outcome unknown",
                               code="RESPONSE_SIGNATURE_INVALID", retryable=False, http_status=status) from None

    def _raise_for_error(self, response: httpx.Response) -> None:
        """§4.3 error mapping: 5xx, 429, SYSTEM_ERROR, FREQUENCY_LIMITED → retryable;
        OUT_TRADE_NO_USED → ``OutTradeNoUsed``; ORDERPAID → ``OrderAlreadyPaid``;
        everything else (PARAM_ERROR, SIGN_ERROR, ORDER_CLOSED, ORDER_NOT_EXIST, …) final."""
        status = response.status_code
        try:
            payload = response.json()
            code, message = str(payload.get("code") or ""), str(payload.get("message") or "")
        except (ValueError, AttributeError):
            code, message = "", ""
        code = _CODE_ALIASES.get(code, code) or f"HTTP_{status}"
        retryable = code not in FINAL_CODES and (code in RETRYABLE_CODES or status >= 500 or status == 429)
        self._log_refusal(response, code=code)
        error_class = {"OUT_TRADE_NO_USED": OutTradeNoUsed, "ORDERPAID": OrderAlreadyPaid}.get(code, PaymentError)
        raise error_class(f"wechatpay {code}: {message}", code=code, retryable=retryable, http_status=status)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise PaymentError("wechatpay answered without a JSON object", code="INVALID_RESPONSE", retryable=True)
        return data

    @staticmethod
    def _log_refusal(response: httpx.Response, *, code: str, reason: str = "") -> None:
        extra = {"provider": PROVIDER, "status": response.status_code, "wechatpay_code": code,
                 "wechatpay_request_id": response.headers.get("Request-ID", ""), "http_path": response.request.url.path}
        if reason:
            extra["reason"] = reason
        logger.warning("wechatpay %s %s -> %s", response.request.method, response.request.url.path, code, extra=extra)
