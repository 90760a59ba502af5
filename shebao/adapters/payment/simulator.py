"""Loopback simulator of WeChat Pay API v3 JSAPI (interfaces.md §4.10): a plain WSGI
app (no Django at request time; only the default keys come from
``settings.PAYMENT["WECHATPAY"]``, lazily), state in SQLite (``sim_store``).

Routes, relative to the mount point (``/sim/wxpay`` in development):

* ``POST /v3/pay/transactions/jsapi`` — JSAPI order: field rules (400 PARAM_ERROR),
  out_trade_no idempotency (same fields → same prepay_id while it lives 2 h; other fields →
  403 OUT_TRADE_NO_USED; closed → 400 ORDER_CLOSED; paid → 400 ORDERPAID).
* ``GET  /v3/pay/transactions/out-trade-no/{no}?mchid=`` — the Transaction (404 ORDER_NOT_EXIST).
* ``GET  /v3/pay/transactions/id/{transaction_id}?mchid=`` — the same, by WeChat Pay's number (paid orders only).
* ``POST /v3/pay/transactions/out-trade-no/{no}/close`` — 204; a paid order → 400 ORDERPAID.
* ``GET  /v3/bill/tradebill?bill_date=&bill_type=ALL[&tar_type=GZIP]`` and ``GET /v3/billdownload/file?token=``.
* ``GET|POST /cashier`` — the payment sheet (确认支付 / 支付失败 / 取消), then back to ``return_url``.
* ``GET|POST /_control`` — fault switches ``{"notify": …, "api": …, "delay_seconds": …, "refund": …, "close": …}`` (see ``sim_store``).

Every ``/v3`` request must carry a valid merchant ``Authorization`` (401 SIGN_ERROR), signed over
the path relative to the mount point — ``/v3/...``, as every client signs it — and
every ``/v3`` answer is signed with the platform key — except the bill file, which WeChat
Pay does not sign either. Unpaid orders past ``time_expire`` close themselves.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from shebao.adapters.payment import sim_refunds
from shebao.adapters.payment.sim_api import ApiError, check_order_request, order_fingerprint
from shebao.adapters.payment.sim_cashier import ACTIONS, Response, cashier_page, message_page
from shebao.adapters.payment.sim_notify import DEFAULT_RETRY_SCHEDULE, Notifier
from shebao.adapters.payment.sim_store import API_MODES, CLOSE_MODES, NOTIFY_MODES, REFUND_OUTCOMES, SimStore
from shebao.adapters.payment.sim_wire import SHANGHAI, SimKeys, check_authorization, signed_headers, trade_bill, transaction_json

PREPAY_TTL_SECONDS = 2 * 3600
BILL_URL_TTL_SECONDS = 30
DEFAULT_MERCHANT_NAME = "国家税务总局广西壮族自治区税务局（模拟商户）"
_ORDER_PATH = re.compile(r"/v3/pay/transactions/out-trade-no/([^/]+)(/close)?")
_TRANSACTION_PATH = re.compile(r"/v3/pay/transactions/id/([^/]+)")
_REFUND_PATH = re.compile(r"/v3/refund/domestic/refunds/([^/]+)")
TAR_TYPES = ("", "GZIP")
_SETTING_NAMES = {
    "mchid": "MCHID", "appid": "APPID", "merchant_public_key_pem": "MERCHANT_PUBLIC_KEY", "merchant_serial_no": "MERCHANT_SERIAL_NO",
    "platform_private_key_pem": "PLATFORM_PRIVATE_KEY", "platform_public_key_id": "PLATFORM_PUBLIC_KEY_ID", "apiv3_key": "APIV3_KEY",
}


class WechatPaySimulator:
    """The WSGI app; see the module docstring."""

    def __init__(self, state_path: Path, *, config: dict[str, str | None], merchant_name: str,
                 clock: Callable[[], dt.datetime] | None, notify_retry_schedule: Sequence[float], notify_timeout: float):
        self.store = SimStore(state_path)
        self._config, self._keys, self.merchant_name = config, None, merchant_name
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.notifier = Notifier(self.store, keys=self.keys, clock=self._now, schedule=notify_retry_schedule, timeout=notify_timeout)

    def _now(self) -> float:
        return self._clock().timestamp()

    def keys(self) -> SimKeys:
        """Constructor values, else (at the first request) ``settings.PAYMENT["WECHATPAY"]``."""
        if self._keys is None:
            config = dict(self._config)
            if any(v is None for k, v in config.items() if k != "merchant_serial_no"):
                from django.conf import settings

                wechatpay = getattr(settings, "PAYMENT", {}).get("WECHATPAY", {})
                config = {k: v if v is not None else wechatpay.get(_SETTING_NAMES[k]) for k, v in config.items()}
            self._keys = SimKeys.load(config, merchant_name=self.merchant_name)
        return self._keys

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO") or "/"
        if path.startswith("/v3/"):
            status, headers, body = self._api(environ, method, path)
        elif path == "/cashier" and method in ("GET", "POST"):
            status, headers, body = self._cashier(environ, method)
        elif path == "/_control" and method in ("GET", "POST"):
            status, headers, body = self._control(environ, method)
        else:
            status, headers, body = "404 Not Found", [("Content-Type", "text/plain; charset=utf-8")], b"not found"
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    # --- API v3 ----------------------------------------------------------------------

    def _api(self, environ: dict[str, Any], method: str, path: str) -> Response:
        """Fault switch, then authentication, then the endpoint; the answer signed (§4.1)."""
        control = self.store.control()
        if control["api"] == "slow":
            time.sleep(float(control["delay_seconds"]))
        body, now = _read_body(environ), self._now()
        try:
            if control["api"] == "system_error":
                raise ApiError(500, "SYSTEM_ERROR", "系统错误，请使用相同参数重试")
            problem = check_authorization(self.keys(), method=method, uri=_request_uri(environ), body=body,
                                          header=environ.get("HTTP_AUTHORIZATION", ""), now=now)
            if problem:
                raise ApiError(401, "SIGN_ERROR", problem)
            if (method, path) == ("GET", "/v3/billdownload/file"):
                return self._download(environ, now)
            status, payload = self._route(environ, method, path, body, now, control)
        except ApiError as exc:
            status, payload = exc.status, {"code": exc.code, "message": exc.message}
        content = b"" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = signed_headers(self.keys(), content, self._now(), corrupt=control["api"] == "bad_response_signature")
        if payload is not None:
            headers.append(("Content-Type", "application/json; charset=utf-8"))
        return _status(status), headers, content

    def _route(self, environ: dict[str, Any], method: str, path: str, body: bytes, now: float,
               control: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if (method, path) == ("POST", "/v3/pay/transactions/jsapi"):
            return self._create(body, now)
        if (method, path) == ("GET", "/v3/bill/tradebill"):
            return self._tradebill(environ, query, now, wrong_hash=control["api"] == "bad_bill_hash")
        match = _ORDER_PATH.fullmatch(path)
        if match and method == "GET" and not match.group(2):
            self._check_mchid(query)
            return 200, transaction_json(self.keys(), self._order(match.group(1), now))
        if match and method == "POST" and match.group(2):
            return self._close(match.group(1), body, now, lost=control["close"] == "lost")
        if (method, path) == ("POST", "/v3/refund/domestic/refunds"):
            return self._refund(body, now, control)
        refund = _REFUND_PATH.fullmatch(path)
        if refund and method == "GET":
            with self.store.tx(now) as db:
                row, settled = sim_refunds.settle_refund(db, refund.group(1), now=now)
                order = db.execute("SELECT * FROM orders WHERE out_trade_no = ?", (row["out_trade_no"],)).fetchone()
            if settled and row["notify_url"]:
                self.notifier.refund_settled(row["notify_url"], sim_refunds.refund_notification(row, order, mchid=self.keys().mchid),
                                             mode=control["notify"])
            return 200, sim_refunds.refund_json(row, order)
        by_id = _TRANSACTION_PATH.fullmatch(path)
        if by_id and method == "GET":
            self._check_mchid(query)
            return 200, transaction_json(self.keys(), self._order(by_id.group(1), now, by="transaction_id"))
        raise ApiError(404, "NOT_FOUND", "请求的资源不存在")

    def _refund(self, body: bytes, now: float, control: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """申请退款 (§4.9), idempotent by out_refund_no (sim_refunds)."""
        request = sim_refunds.check_refund_request(body)
        column, number = ("out_trade_no", request["out_trade_no"]) if request.get("out_trade_no") else (
            "transaction_id", request["transaction_id"])
        with self.store.tx(now) as db:
            order = db.execute(f"SELECT * FROM orders WHERE {column} = ?", (number,)).fetchone()  # noqa: S608 - fixed names
            if order is None:
                raise ApiError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            row = sim_refunds.create_refund(db, request, order=order, now=now, outcome=control["refund"])
        return 200, sim_refunds.refund_json(row, order)

    def _check_mchid(self, query: dict[str, str]) -> None:
        if query.get("mchid") != self.keys().mchid:
            raise ApiError(400, "PARAM_ERROR", "mchid 参数错误")

    def _order(self, number: str, now: float, *, by: str = "out_trade_no") -> Any:
        """The order by ``out_trade_no`` or by ``transaction_id`` (which only paid orders have)."""
        column = {"out_trade_no": "out_trade_no", "transaction_id": "transaction_id"}[by]
        with self.store.tx(now) as db:
            row = db.execute(f"SELECT * FROM orders WHERE {column} = ?", (number,)).fetchone()  # noqa: S608 - fixed names
        if row is None:
            raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
        return row

    def _create(self, body: bytes, now: float) -> tuple[int, dict[str, Any]]:
        """JSAPI下单 with §4.4 idempotency on out_trade_no."""
        request, time_expire = check_order_request(body, self.keys())
        no, fingerprint = request["out_trade_no"], order_fingerprint(request)
        with self.store.tx(now) as db:
            row = db.execute("SELECT * FROM orders WHERE out_trade_no = ?", (no,)).fetchone()
            if row is not None:
                if row["fingerprint"] != fingerprint:
                    raise ApiError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
                if row["state"] in ("SUCCESS", "REFUND"):
                    raise ApiError(400, "ORDERPAID", "该订单已支付")
                if row["state"] == "CLOSED":
                    raise ApiError(400, "ORDER_CLOSED", "订单已关闭")
                if now - row["prepay_issued_at"] < PREPAY_TTL_SECONDS:
                    return 200, {"prepay_id": row["prepay_id"]}
                prepay_id = _prepay_id(now)
                db.execute("UPDATE orders SET prepay_id = ?, prepay_issued_at = ? WHERE out_trade_no = ?", (prepay_id, now, no))
                return 200, {"prepay_id": prepay_id}
            if time_expire is not None and time_expire <= now:
                raise ApiError(400, "PARAM_ERROR", "time_expire 早于当前时间")
            prepay_id = _prepay_id(now)
            db.execute(
                "INSERT INTO orders (out_trade_no, fingerprint, request, prepay_id, prepay_issued_at, state, state_desc, time_expire,"
                " created_at) VALUES (?, ?, ?, ?, ?, 'NOTPAY', '订单未支付', ?, ?)",
                (no, fingerprint, json.dumps(request, ensure_ascii=False), prepay_id, now, time_expire, now),
            )
        return 200, {"prepay_id": prepay_id}

    def _close(self, out_trade_no: str, body: bytes, now: float, *, lost: bool = False) -> tuple[int, None]:
        """关闭订单: 204; closing a closed order again is fine; a paid order cannot be closed.
        ``lost`` (the ``close`` switch): answered 204 but the order stays payable, as when the
        payer's confirmation was already on its way (how a bill gets paid twice)."""
        try:
            mchid = json.loads(body or b"{}").get("mchid")
        except (ValueError, AttributeError):
            mchid = None
        if mchid != self.keys().mchid:
            raise ApiError(400, "PARAM_ERROR", "mchid 参数错误")
        with self.store.tx(now) as db:
            row = db.execute("SELECT state FROM orders WHERE out_trade_no = ?", (out_trade_no,)).fetchone()
            if row is None:
                raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
            if row["state"] in ("SUCCESS", "REFUND"):
                raise ApiError(400, "ORDERPAID", "订单已支付，不能关闭")
            if not lost:
                db.execute("UPDATE orders SET state = 'CLOSED', state_desc = '订单已关闭' WHERE out_trade_no = ?", (out_trade_no,))
        return 204, None

    def _tradebill(self, environ: dict[str, Any], query: dict[str, str], now: float, *, wrong_hash: bool) -> tuple[int, dict[str, Any]]:
        """申请交易账单: one day's paid orders (Asia/Shanghai), ready the day after. ``tar_type=GZIP``
        serves the file gzip-compressed; ``hash_value`` is always over the bill itself
        (WeChat Pay: "原始账单（gzip需要解压缩）的摘要值")."""
        try:
            bill_date = dt.date.fromisoformat(query.get("bill_date", ""))
        except ValueError:
            raise ApiError(400, "PARAM_ERROR", "bill_date 格式应为 YYYY-MM-DD") from None
        if query.get("bill_type", "ALL") != "ALL":
            raise ApiError(400, "PARAM_ERROR", "模拟器仅支持 bill_type=ALL")
        tar_type = query.get("tar_type", "")
        if tar_type not in TAR_TYPES:
            raise ApiError(400, "PARAM_ERROR", "tar_type 仅支持 GZIP 或不填")
        today = dt.datetime.fromtimestamp(now, SHANGHAI).date()
        if bill_date > today:
            raise ApiError(400, "PARAM_ERROR", "账单日期不能晚于今天")
        if bill_date == today:
            raise ApiError(400, "STATEMENT_CREATING", "账单生成中，请次日再下载")
        start = dt.datetime.combine(bill_date, dt.time(), SHANGHAI).timestamp()
        with self.store.tx(now) as db:
            rows = db.execute("SELECT * FROM orders WHERE state IN ('SUCCESS', 'REFUND') AND success_time >= ? AND success_time < ?"
                              " ORDER BY success_time, out_trade_no", (start, start + 86400)).fetchall()
            refunds = tuple(
                (refund, db.execute("SELECT * FROM orders WHERE out_trade_no = ?", (refund["out_trade_no"],)).fetchone())
                for refund in db.execute("SELECT * FROM refunds WHERE status = 'SUCCESS' AND success_time >= ? AND success_time < ?"
                                         " ORDER BY success_time, out_refund_no", (start, start + 86400)).fetchall()
            )
            if not rows and not refunds:
                raise ApiError(400, "NO_STATEMENT_EXIST", "当前商户号没有已成交的订单，不生成对账单")
            content, token = trade_bill(self.keys(), rows, refunds), secrets.token_urlsafe(24)
            served = gzip.compress(content, mtime=0) if tar_type == "GZIP" else content
            db.execute("INSERT INTO bill_files (token, bill_date, content, issued_at) VALUES (?, ?, ?, ?)",
                       (token, bill_date.isoformat(), served, now))
        digest = hashlib.sha1(content + (b"x" if wrong_hash else b"")).hexdigest()
        return 200, {"hash_type": "SHA1", "hash_value": digest, "download_url": f"{_base_url(environ)}/v3/billdownload/file?token={token}"}

    def _download(self, environ: dict[str, Any], now: float) -> Response:
        """The bill file itself, for 30 s after it was asked for; not signed (as at WeChat Pay)."""
        token = dict(parse_qsl(environ.get("QUERY_STRING", ""))).get("token", "")
        with self.store.tx() as db:
            row = db.execute("SELECT content, issued_at FROM bill_files WHERE token = ?", (token,)).fetchone()
        if row is None or now - row["issued_at"] > BILL_URL_TTL_SECONDS:
            raise ApiError(400, "INVALID_REQUEST", "下载链接无效或已过期")
        content = bytes(row["content"])
        kind = "application/octet-stream" if content[:2] == b"\x1f\x8b" else "text/csv; charset=utf-8"  # gzip magic
        return "200 OK", [("Content-Type", kind)], content

    # --- cashier -----------------------------------------------------------------------

    def _cashier(self, environ: dict[str, Any], method: str) -> Response:
        """The payment sheet (GET) and its three buttons (POST), then back to ``return_url``."""
        source = environ.get("QUERY_STRING", "") if method == "GET" else _read_body(environ).decode("utf-8", "replace")
        form = dict(parse_qsl(source, keep_blank_values=True))
        prepay_id, return_url, action, now = form.get("prepay_id", ""), form.get("return_url", ""), form.get("action", ""), self._now()
        with self.store.tx(now) as db:
            row = db.execute("SELECT * FROM orders WHERE prepay_id = ?", (prepay_id,)).fetchone()
            if row is None or now - row["prepay_issued_at"] >= PREPAY_TTL_SECONDS:
                return message_page("支付链接无效或已过期，请返回商户重新发起支付。", status="404 Not Found")
            request = json.loads(row["request"])
            origin = _return_origin(return_url, request["notify_url"])
            if origin is None:
                return message_page("return_url 参数错误：须为与商户通知地址同源的 http(s) 地址。", status="400 Bad Request")
            if row["state"] not in ("NOTPAY", "PAYERROR"):
                return message_page("该订单已支付。" if row["state"] == "SUCCESS" else "订单已关闭。", back_url=return_url)
            if method == "GET":
                return cashier_page(action=environ.get("SCRIPT_NAME", "") + "/cashier", merchant_name=self.merchant_name,
                                    description=request["description"], amount_fen=request["amount"]["total"],
                                    prepay_id=prepay_id, return_url=return_url, return_origin=origin)
            if action not in ACTIONS:
                return message_page("未知的操作。", status="400 Bad Request")
            paid = self._press(db, row["out_trade_no"], action, now)
        if paid is not None:  # after COMMIT: the merchant may query as soon as the notification lands
            self.notifier.payment_succeeded(request["notify_url"], transaction_json(self.keys(), paid), mode=self.store.control()["notify"])
        return _back(return_url, {"pay": "ok", "fail": "fail", "cancel": "cancel"}[action])

    @staticmethod
    def _press(db: Any, out_trade_no: str, action: str, now: float) -> Any:
        """确认支付 → SUCCESS (returns the paid row); 支付失败 → PAYERROR; 取消 → unchanged (NOTPAY)."""
        if action == "pay":
            db.execute("UPDATE orders SET state = 'SUCCESS', state_desc = '支付成功', transaction_id = ?, bank_type = 'OTHERS',"
                       " success_time = ? WHERE out_trade_no = ?", (_transaction_id(now), now, out_trade_no))
            return db.execute("SELECT * FROM orders WHERE out_trade_no = ?", (out_trade_no,)).fetchone()
        if action == "fail":  # JSAPI notifies success only: no notification
            db.execute("UPDATE orders SET state = 'PAYERROR', state_desc = '支付失败：银行卡余额不足' WHERE out_trade_no = ?", (out_trade_no,))
        return None

    # --- fault switch ------------------------------------------------------------------

    def _control(self, environ: dict[str, Any], method: str) -> Response:
        if method == "POST":
            try:
                wanted = json.loads(_read_body(environ) or b"{}")
                changes = {k: wanted[k] for k in ("notify", "api", "delay_seconds", "refund", "close") if k in wanted}
                if set(wanted) - set(changes) or changes.get("notify", "normal") not in NOTIFY_MODES \
                        or changes.get("api", "ok") not in API_MODES or not 0 <= float(changes.get("delay_seconds", 0)) <= 60 \
                        or changes.get("refund", "SUCCESS") not in REFUND_OUTCOMES or changes.get("close", "ok") not in CLOSE_MODES:
                    raise ValueError
            except (ValueError, TypeError, AttributeError):
                error = {"error": f"notify in {NOTIFY_MODES}, api in {API_MODES}, refund in {REFUND_OUTCOMES}, close in {CLOSE_MODES}, "
                                  "0 <= delay_seconds <= 60"}
                return _status(400), [("Content-Type", "application/json")], json.dumps(error).encode()
            before, after = self.store.set_control(changes)
            if before["notify"] == "out_of_order" and after["notify"] != "out_of_order":
                self.notifier.flush()
        else:
            after = self.store.control()
        return _status(200), [("Content-Type", "application/json")], json.dumps(after).encode()


def make_wechatpay_simulator(
    state_path: Path, *, mchid: str | None = None, appid: str | None = None, merchant_public_key_pem: str | None = None,
    merchant_serial_no: str | None = None, platform_private_key_pem: str | None = None, platform_public_key_id: str | None = None,
    apiv3_key: str | None = None, merchant_name: str = DEFAULT_MERCHANT_NAME, clock: Callable[[], dt.datetime] | None = None,
    notify_retry_schedule: Sequence[float] = DEFAULT_RETRY_SCHEDULE, notify_timeout: float = 5.0,
) -> WechatPaySimulator:
    """The WeChat Pay simulator as a WSGI app. Keys left ``None`` come from
    ``settings.PAYMENT["WECHATPAY"]`` at the first request; ``clock`` returns aware UTC
    datetimes; ``notify_retry_schedule`` is the pause (seconds) before each retry."""
    config = {"mchid": mchid, "appid": appid, "merchant_public_key_pem": merchant_public_key_pem,
              "merchant_serial_no": merchant_serial_no, "platform_private_key_pem": platform_private_key_pem,
              "platform_public_key_id": platform_public_key_id, "apiv3_key": apiv3_key}
    return WechatPaySimulator(Path(state_path), config=config, merchant_name=merchant_name, clock=clock,
                              notify_retry_schedule=notify_retry_schedule, notify_timeout=notify_timeout)


def _back(return_url: str, result: str) -> Response:
    """303 to ``return_url`` with ``result=ok|fail|cancel`` — like ``err_msg`` of the JS bridge, a hint
    for the page, never proof of payment (§4.5); a result page when there is no return_url."""
    if not return_url:
        return message_page({"ok": "支付成功。", "fail": "支付失败：银行卡余额不足。", "cancel": "已取消支付。"}[result])
    location = return_url + ("&" if urlsplit(return_url).query else "?") + f"result={result}"
    return "303 See Other", [("Location", location), ("Cache-Control", "no-store")], b""


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(length, 256 * 1024)) if length > 0 else b""


def _request_uri(environ: dict[str, Any]) -> str:
    """The path-with-query the client signed: as the client sees it, relative to the mount
    point (``SCRIPT_NAME``, e.g. ``/sim/wxpay``), so ``/v3/...`` — what a client configured
    with base URL ``…/sim/wxpay`` signs, as it would against api.mch.weixin.qq.com.
    Taken from the raw request line when the server gives it (gunicorn and
    ``shebao.adapters.loopback``: ``RAW_URI``), else rebuilt — wsgiref hands PATH_INFO over
    percent-decoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    mount = quote(environ.get("SCRIPT_NAME", "").encode("latin-1"), safe="/")
    if raw and raw.startswith(mount + "/"):
        return raw[len(mount):]
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/")
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def _base_url(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('SCRIPT_NAME', '')}"


def _return_origin(return_url: str, notify_url: str) -> str | None:
    """"" when there is no return_url; its origin when it is http(s) and same-origin as the
    order's notify_url (our service); None when refused (javascript:, other hosts, …)."""
    if not return_url:
        return ""
    target, ours = urlsplit(return_url), urlsplit(notify_url)
    if target.scheme not in ("http", "https") or not target.netloc or (target.scheme, target.netloc) != (ours.scheme, ours.netloc):
        return None
    return f"{target.scheme}://{target.netloc}"


def _prepay_id(now: float) -> str:
    return "wx" + dt.datetime.fromtimestamp(now, SHANGHAI).strftime("%Y%m%d%H%M%S") + secrets.token_hex(10)


def _transaction_id(now: float) -> str:
    """28 digits like "4200001234202611271234567890": 4200001234-style prefix, the local date, 10 random digits."""
    day = dt.datetime.fromtimestamp(now, SHANGHAI).strftime("%Y%m%d")
    return f"420000{secrets.randbelow(10**4):04d}{day}{secrets.randbelow(10**10):010d}"
