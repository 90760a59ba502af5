"""WeChat Pay API v3 JSAPI message shapes on our side: the order body we send
(interfaces.md §4.2) and the Transaction object we read (§4.6, §4.7)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from shebao.adapters.payment.port import TRADE_STATES, Bill, ChannelTransaction, PaymentError
from shebao.adapters.payment.tradebill import SHANGHAI

OUT_TRADE_NO_RE = re.compile(r"[A-Za-z0-9_\-|*]{6,32}")


def rfc3339(moment: dt.datetime) -> str:
    """``time_expire`` format (§4.2): RFC 3339 to the second in +08:00, e.g. ``2018-06-08T10:34:56+08:00``."""
    if moment.tzinfo is None:
        raise ValueError("time_expire needs an aware datetime")
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _param_error(field: str, rule: str) -> PaymentError:
    return PaymentError(f"wechatpay {field}: {rule}", code="PARAM_ERROR", retryable=False)


def check_out_trade_no(out_trade_no: str) -> str:
    """§4.2: 6–32 characters of ``[A-Za-z0-9_-|*]`` (also keeps the URL path safe)."""
    if not isinstance(out_trade_no, str) or not OUT_TRADE_NO_RE.fullmatch(out_trade_no):
        raise _param_error("out_trade_no", "6-32 characters of A-Z a-z 0-9 _ - | *")
    return out_trade_no


def jsapi_order_body(bill: Bill, *, appid: str, mchid: str, notify_url: str) -> dict[str, Any]:
    """The §4.2 JSAPI order fields, checked here so a malformed bill never leaves:
    description 1–127 characters, amount a positive integer of fen, openid required,
    attach ≤ 128, payer IP an IPv4/IPv6 address, time_expire aware (sent in +08:00)."""
    check_out_trade_no(bill.out_trade_no)
    if not bill.description or len(bill.description) > 127:
        raise _param_error("description", "1-127 characters")
    if type(bill.amount_fen) is not int or bill.amount_fen <= 0:
        raise _param_error("amount.total", "a positive integer number of fen")
    if not bill.payer_openid or len(bill.payer_openid) > 128:
        raise _param_error("payer.openid", "required for JSAPI, at most 128 characters")
    if len(bill.attach) > 128:
        raise _param_error("attach", "at most 128 characters")
    try:
        ipaddress.ip_address(bill.client_ip)
    except ValueError:
        raise _param_error("scene_info.payer_client_ip", "an IPv4 or IPv6 address") from None
    if bill.expire_at.tzinfo is None:
        raise _param_error("time_expire", "an aware datetime")
    body: dict[str, Any] = {
        "appid": appid,
        "mchid": mchid,
        "description": bill.description,
        "out_trade_no": bill.out_trade_no,
        "time_expire": rfc3339(bill.expire_at),
        "notify_url": notify_url,
        "amount": {"total": bill.amount_fen, "currency": "CNY"},
        "payer": {"openid": bill.payer_openid},
        "scene_info": {"payer_client_ip": bill.client_ip},
    }
    if bill.attach:
        body["attach"] = bill.attach
    return body


def transaction_from(data: Mapping[str, Any], *, mchid: str, appid: str) -> ChannelTransaction:
    """A §4.6/§4.7 Transaction object → ``ChannelTransaction``; ``ValueError`` when unusable.
    ``amount_fen`` is ``amount.total`` (the order amount), ``success_time`` is made UTC."""
    if data.get("mchid") not in (None, mchid) or data.get("appid") not in (None, appid):
        raise ValueError("another merchant's transaction")
    out_trade_no, state = data.get("out_trade_no"), data.get("trade_state")
    if not isinstance(out_trade_no, str) or state not in TRADE_STATES:
        raise ValueError("out_trade_no or trade_state")
    if state == "SUCCESS" and (data.get("mchid"), data.get("appid")) != (mchid, appid):
        raise ValueError("a payment must name our merchant and app")  # never credit one that does not
    amount = data.get("amount") or {}
    total = amount.get("total") if isinstance(amount, dict) else None
    if total is not None and type(total) is not int:
        raise ValueError("amount.total")
    success_time = None
    if data.get("success_time"):
        success_time = dt.datetime.fromisoformat(str(data["success_time"]))
        if success_time.tzinfo is None:
            raise ValueError("success_time without offset")
        success_time = success_time.astimezone(dt.UTC)
    payer = data.get("payer") if isinstance(data.get("payer"), dict) else {}
    return ChannelTransaction(
        out_trade_no=out_trade_no,
        transaction_id=data.get("transaction_id") or None,
        state=state,
        amount_fen=total,
        success_time=success_time,
        bank_type=data.get("bank_type") or None,
        payer_openid=payer.get("openid") or None,
        raw_state_desc=str(data.get("trade_state_desc") or ""),
        attach=str(data.get("attach") or ""),
        currency=amount.get("currency") if isinstance(amount, dict) and isinstance(amount.get("currency"), str) else None,
    )
