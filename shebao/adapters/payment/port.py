"""Payment channel port: "pay this bill", in our vocabulary (interfaces.md §4.11).

The domain asks a channel to collect one bill (``Bill``), gets back what the
front end needs to start paying (``LaunchParams``), and learns the outcome from
a verified notification or a query (``ChannelTransaction``). WeChat Pay JSAPI is
one implementation; a bank/UnionPay aggregator (``kind="redirect"``) fits the
same shape. Amounts are integer fen here, the payment boundary (house rule
"Money"); the domain converts from and to ``Decimal`` yuan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

TradeState = Literal["SUCCESS", "NOTPAY", "CLOSED", "PAYERROR", "REFUND", "USERPAYING", "REVOKED"]
TRADE_STATES: tuple[str, ...] = ("SUCCESS", "NOTPAY", "CLOSED", "PAYERROR", "REFUND", "USERPAYING", "REVOKED")


@dataclass(frozen=True)
class Bill:
    """One attempt at collecting a bill. ``out_trade_no`` is our idempotency key
    at the channel: re-sending the same bill returns the same order; changing any
    money-relevant field needs a new ``out_trade_no``.

    ``return_url`` is where a channel page (bank cashier, the development cashier)
    sends the browser back to; it is not part of the order at the channel."""

    out_trade_no: str
    description: str
    amount_fen: int
    payer_openid: str | None
    client_ip: str
    expire_at: dt.datetime  # aware; the last moment the payer may pay
    attach: str = ""
    return_url: str | None = None

    def __repr__(self) -> str:  # the openid is personal data: never in logs or tracebacks
        return f"Bill(out_trade_no={self.out_trade_no!r}, amount_fen={self.amount_fen!r}, expire_at={self.expire_at!r})"


@dataclass(frozen=True)
class LaunchParams:
    """What the H5 page needs to start paying.

    ``kind="jsapi"``: ``params`` are the ``getBrandWCPayRequest`` arguments
    (appId, timeStamp, nonceStr, package, signType, paySign) for WeixinJSBridge;
    ``cashier_url`` is set only when a development cashier stands in for the
    bridge (outside WeChat). ``kind="redirect"``: send the browser to ``cashier_url``."""

    channel: str
    kind: Literal["jsapi", "redirect"]
    params: dict[str, str] = field(default_factory=dict)
    cashier_url: str | None = None


@dataclass(frozen=True)
class ChannelTransaction:
    """The channel's view of one order (query answer or notification).

    ``amount_fen`` is the order total the channel reports — the domain must
    compare it with the bill before crediting (security.md §6.1)."""

    out_trade_no: str
    transaction_id: str | None
    state: TradeState
    amount_fen: int | None
    success_time: dt.datetime | None  # aware UTC
    bank_type: str | None
    payer_openid: str | None
    raw_state_desc: str = ""
    attach: str = ""
    currency: str | None = None  # ``amount.currency``; only CNY is ever credited

    def __repr__(self) -> str:
        return (
            f"ChannelTransaction(out_trade_no={self.out_trade_no!r}, transaction_id={self.transaction_id!r}, "
            f"state={self.state!r}, amount_fen={self.amount_fen!r}, success_time={self.success_time!r})"
        )


@dataclass(frozen=True)
class StatementLine:
    """One line of the channel's daily statement, for T+1 reconciliation.

    ``state`` is ``SUCCESS`` (a payment; ``amount_fen`` = order amount) or
    ``REFUND`` (a refund; ``amount_fen`` = refunded amount, ``out_refund_no`` our refund's number)."""

    transaction_id: str
    out_trade_no: str
    amount_fen: int
    state: str
    success_time: dt.datetime  # aware UTC
    out_refund_no: str = ""


RefundStatus = Literal["PROCESSING", "SUCCESS", "ABNORMAL", "CLOSED"]


@dataclass(frozen=True)
class ChannelRefund:
    """The channel's view of one refund of a paid order (WeChat Pay v3 domestic refunds,
    interfaces.md §4.9). ``out_refund_no`` is our idempotency key: sending the same refund
    again answers this same refund, never a second one. ``status`` PROCESSING becomes
    SUCCESS (money back the way it came, 原路退回), ABNORMAL or CLOSED."""

    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    status: RefundStatus
    refund_fen: int
    total_fen: int
    success_time: dt.datetime | None
    user_received_account: str = ""  # e.g. "招商银行信用卡0403"; personal data, kept out of repr

    def __repr__(self) -> str:
        return (f"ChannelRefund(out_refund_no={self.out_refund_no!r}, refund_id={self.refund_id!r}, status={self.status!r}, "
                f"refund_fen={self.refund_fen!r}, total_fen={self.total_fen!r})")


class PaymentError(Exception):
    """A channel call failed. ``retryable``: the caller may send the IDENTICAL
    request again (same ``out_trade_no``, same fields) — never a new order id.
    When a create/close times out the outcome is unknown: resolve it by ``query``."""

    def __init__(self, message: str, *, code: str, retryable: bool = False, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.http_status = http_status


class OutTradeNoUsed(PaymentError):
    """The ``out_trade_no`` exists at the channel with other parameters (final: use a new one)."""


class OrderAlreadyPaid(PaymentError):
    """The order is already paid (close refused, or create of a paid order): query it and credit."""


class NotificationRejected(Exception):
    """A notification that must not be believed. ``reason`` is one of
    ``missing_header``, ``unknown_serial``, ``stale_timestamp``, ``bad_signature``,
    ``malformed``, ``decrypt_failed``, ``unexpected_event``, ``merchant_mismatch``.
    Answer the channel with a 4xx (``malformed``, e.g. over 64 KiB or nested too deep:
    400; the others 401); never act on the body."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class PaymentChannel(Protocol):
    name: str  # stored with each attempt, e.g. "wechatpay"
    label: str  # shown to the payer, e.g. "微信支付"

    def create(self, bill: Bill) -> LaunchParams:
        """Create (or re-create with identical fields) the channel order for ``bill``."""
        ...

    def query(self, out_trade_no: str) -> ChannelTransaction:
        """The channel's current state of the order (raises ``PaymentError`` code ``ORDER_NOT_EXIST``)."""
        ...

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid order so it can no longer be paid (``OrderAlreadyPaid`` if it was)."""
        ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> ChannelTransaction:
        """Verify, then decode, a payment notification (``NotificationRejected`` if not authentic)."""
        ...

    def statement(self, bill_date: dt.date) -> list[StatementLine]:
        """The channel's statement lines for one day (Asia/Shanghai)."""
        ...

    def refund(self, *, out_refund_no: str, out_trade_no: str, refund_fen: int, total_fen: int, reason: str) -> ChannelRefund:
        """Refund (part of) a paid order back the way it was paid. Idempotent by ``out_refund_no``:
        an identical repeat answers the same refund; a timeout leaves the outcome unknown, so
        resolve it by ``refund_query`` or by sending the identical request again."""
        ...

    def refund_query(self, out_refund_no: str) -> ChannelRefund:
        """The refund's current state (``PaymentError`` code ``RESOURCE_NOT_EXISTS`` if the channel has none)."""
        ...

    def parse_refund_notification(self, headers: Mapping[str, str], body: bytes) -> ChannelRefund:
        """Verify, then decode, a refund notification (``NotificationRejected`` if not authentic)."""
        ...
