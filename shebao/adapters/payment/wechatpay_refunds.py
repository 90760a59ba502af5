"""WeChat Pay v3 domestic refunds, the client side (interfaces.md §4.9): 申请退款
``POST /v3/refund/domestic/refunds`` and 查询单笔退款 ``GET /v3/refund/domestic/refunds/{out_refund_no}``.

A mixin of :class:`~shebao.adapters.payment.wechatpay.WechatPayV3Channel`: it uses the channel's
signed session (``_call``, ``_json``), so a refund is signed, verified and logged like an order.
Amounts are integer fen, as at every payment boundary."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from shebao.adapters.payment.port import ChannelRefund, NotificationRejected, PaymentError

logger = logging.getLogger("shebao.adapters.payment")
_OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
REFUND_STATUSES = ("PROCESSING", "SUCCESS", "ABNORMAL", "CLOSED")


def check_out_refund_no(out_refund_no: str) -> str:
    if not isinstance(out_refund_no, str) or not _OUT_REFUND_NO.fullmatch(out_refund_no):
        raise PaymentError("out_refund_no 应为 1-64 位数字、字母、_-|*@", code="PARAM_ERROR")
    return out_refund_no


def refund_body(*, out_refund_no: str, out_trade_no: str, refund_fen: int, total_fen: int, reason: str,
                notify_url: str) -> dict[str, Any]:
    if type(refund_fen) is not int or type(total_fen) is not int or not 0 < refund_fen <= total_fen:
        raise PaymentError("退款金额应为不超过订单金额的正整数（单位：分）", code="PARAM_ERROR")
    return {
        "out_trade_no": out_trade_no, "out_refund_no": check_out_refund_no(out_refund_no), "reason": reason[:80],
        "notify_url": notify_url, "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"},
    }


def refund_from(data: Mapping[str, Any]) -> ChannelRefund:
    """The §4.9 Refund object in our vocabulary (``ValueError`` if it is not one)."""
    status = data.get("status")
    amount = data.get("amount")
    if status not in REFUND_STATUSES or not isinstance(amount, Mapping):
        raise ValueError("not a refund object")
    refund, total = amount.get("refund"), amount.get("total")
    if type(refund) is not int or type(total) is not int:
        raise ValueError("refund amounts are not integers")
    success = data.get("success_time")
    return ChannelRefund(
        out_refund_no=str(data.get("out_refund_no") or ""), refund_id=str(data.get("refund_id") or ""),
        out_trade_no=str(data.get("out_trade_no") or ""), transaction_id=str(data.get("transaction_id") or ""),
        status=status, refund_fen=refund, total_fen=total,
        success_time=dt.datetime.fromisoformat(success).astimezone(dt.UTC) if isinstance(success, str) and success else None,
        user_received_account=str(data.get("user_received_account") or ""),
    )


class RefundsMixin:
    """``refund`` and ``refund_query`` of the PaymentChannel port, over the channel's session."""

    def refund(self, *, out_refund_no: str, out_trade_no: str, refund_fen: int, total_fen: int, reason: str) -> ChannelRefund:
        """申请退款 (§4.9). Idempotent by ``out_refund_no`` at WeChat Pay: the identical request
        again answers the same refund."""
        body = refund_body(out_refund_no=out_refund_no, out_trade_no=out_trade_no, refund_fen=refund_fen, total_fen=total_fen,
                           reason=reason, notify_url=self.refund_notify_url)  # type: ignore[attr-defined]
        answer = self._answer(self._call("POST", "/v3/refund/domestic/refunds", json=body), out_refund_no)  # type: ignore[attr-defined]
        logger.info("wechatpay refund requested", extra={"provider": "wechatpay", "out_refund_no": out_refund_no,
                                                         "refund_fen": refund_fen, "refund_status": answer.status})
        return answer

    def refund_query(self, out_refund_no: str) -> ChannelRefund:
        """查询单笔退款 (§4.9); an unknown refund raises ``PaymentError(code="RESOURCE_NOT_EXISTS")`` (final)."""
        path = f"/v3/refund/domestic/refunds/{quote(check_out_refund_no(out_refund_no), safe='')}"
        return self._answer(self._call("GET", path), out_refund_no)  # type: ignore[attr-defined]

    def parse_refund_notification(self, headers: Mapping[str, str], body: bytes) -> ChannelRefund:
        """退款结果通知 (§4.9): ``REFUND.SUCCESS | REFUND.ABNORMAL | REFUND.CLOSED``, verified and
        decrypted like a payment notification (``NotificationRejected`` if not authentic)."""
        data = self._open_notification(headers, body, event_prefix="REFUND.", original_type="refund")  # type: ignore[attr-defined]
        try:
            refund = refund_from({**data, "status": data.get("refund_status")})
        except (ValueError, TypeError, AttributeError):
            raise NotificationRejected("malformed", "refund") from None
        if refund.status == "PROCESSING":  # a notification is only sent for an outcome
            raise NotificationRejected("malformed", "refund status")
        return refund

    def _answer(self, response: Any, out_refund_no: str) -> ChannelRefund:
        try:
            refund = refund_from(self._json(response))  # type: ignore[attr-defined]
        except ValueError as exc:
            raise PaymentError(f"wechatpay refund answer unusable: {exc}", code="INVALID_RESPONSE", retryable=True) from None
        if refund.out_refund_no != out_refund_no:
            raise PaymentError("wechatpay answered about another refund", code="INVALID_RESPONSE", retryable=False)
        return refund
