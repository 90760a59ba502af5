"""Field rules of the simulated ``POST /v3/pay/transactions/jsapi`` (interfaces.md §4.2)
and the fingerprint that decides "same order again" versus OUT_TRADE_NO_USED (§4.4)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

from shebao.adapters.payment.sim_wire import SimKeys

_OUT_TRADE_NO = re.compile(r"[A-Za-z0-9_\-|*]{6,32}")
# Fields that make an order "the same" (§4.4). scene_info is left out on purpose:
# the payer's IP may change between two tries of the same bill.
FINGERPRINT_FIELDS = ("description", "amount", "payer", "attach", "notify_url", "time_expire")


class ApiError(Exception):
    """An API v3 error answer: HTTP status and JSON ``{"code", "message"}`` (§4.3)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _param(message: str) -> ApiError:
    return ApiError(400, "PARAM_ERROR", message)


def _text(request: dict[str, Any], name: str, *, low: int, high: int, required: bool = True) -> None:
    value = request.get(name)
    if value is None and not required:
        return
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise _param(f"{name} 应为 {low}-{high} 个字符的字符串")


def json_object(body: bytes) -> dict[str, Any]:
    """A request body that must be one JSON object (PARAM_ERROR otherwise)."""
    try:
        request = json.loads(body)
    except ValueError:
        raise _param("请求体不是合法的 JSON") from None
    if not isinstance(request, dict):
        raise _param("请求体应为 JSON 对象")
    return request


def check_order_request(body: bytes, keys: SimKeys) -> tuple[dict[str, Any], float | None]:
    """The JSAPI order body checked like WeChat Pay does; returns it and ``time_expire`` as epoch seconds."""
    request = json_object(body)
    if request.get("appid") != keys.appid or request.get("mchid") != keys.mchid:
        raise ApiError(400, "APPID_MCHID_NOT_MATCH", "appid 和 mchid 不匹配")
    _text(request, "description", low=1, high=127)
    if not isinstance(request.get("out_trade_no"), str) or not _OUT_TRADE_NO.fullmatch(request["out_trade_no"]):
        raise _param("out_trade_no 应为 6-32 位数字、字母、_-|*")
    _text(request, "attach", low=0, high=128, required=False)
    _text(request, "notify_url", low=1, high=255)
    notify = urlsplit(request["notify_url"])
    if notify.scheme not in ("http", "https") or not notify.netloc or notify.query:
        raise _param("notify_url 应为不带参数的 http(s) 地址")
    amount = request.get("amount")
    if not isinstance(amount, dict) or type(amount.get("total")) is not int or amount["total"] <= 0:
        raise _param("amount.total 应为正整数（单位：分）")
    if amount.get("currency", "CNY") != "CNY":
        raise _param("amount.currency 仅支持 CNY")
    payer = request.get("payer")
    if not isinstance(payer, dict) or not isinstance(payer.get("openid"), str) or not 1 <= len(payer["openid"]) <= 128:
        raise _param("payer.openid 必填")
    scene = request.get("scene_info")
    if scene is not None and (not isinstance(scene, dict) or not isinstance(scene.get("payer_client_ip"), str)
                              or not scene["payer_client_ip"]):
        raise _param("scene_info.payer_client_ip 必填")
    expire: float | None = None
    if request.get("time_expire") is not None:
        try:
            moment = dt.datetime.fromisoformat(str(request["time_expire"]))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise _param("time_expire 应为 RFC 3339 格式，如 2018-06-08T10:34:56+08:00")
        expire = moment.timestamp()
    return request, expire


def order_fingerprint(request: dict[str, Any]) -> str:
    """SHA-256 over the fields that must match for a repeated order to count as the same one."""
    fields = {name: request.get(name) for name in FINGERPRINT_FIELDS}
    fields["attach"] = request.get("attach") or ""
    fields["amount"] = {"total": request["amount"]["total"], "currency": request["amount"].get("currency", "CNY")}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
