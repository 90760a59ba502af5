"""Reconciliation (对账): the channel's statement of a day against our credited
payments and the core's tax receipts (security.md §6.2 "Reconciliation
practice"). Every difference is listed and classified; nothing is "fixed" here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from shebao.adapters.core import get_core
from shebao.adapters.payment.port import StatementLine
from shebao.common.clock import SHANGHAI
from shebao.fees.models import AttemptState, PaymentAttempt, PaymentRefund, PaymentRefundState
from shebao.rules.money import to_fen


@dataclass(frozen=True)
class Difference:
    kind: str  # one of KINDS
    label: str
    out_trade_no: str
    transaction_id: str
    detail: str


KINDS = {
    "missing_at_us": "渠道有记录、我方未入账",
    "missing_at_channel": "我方已入账、渠道无记录",
    "amount_mismatch": "金额不符",
    "double_payment": "重复支付待退款",
    "refund_due": "已扣款未入账待退款",
    "no_tax_receipt": "已支付但无税票",
    "refund_unknown": "渠道有退款、我方无记录",
    "refund_missing_at_channel": "我方已退款、渠道无记录",
    "refund_failed": "原路退款未成功",
}


# attempts the channel has charged: credited, or kept as money to refund
CHARGED = (AttemptState.PAID, AttemptState.DUPLICATE, AttemptState.REFUND_DUE, AttemptState.REFUNDED)
FAILED_REFUNDS = (PaymentRefundState.ABNORMAL, PaymentRefundState.CLOSED, PaymentRefundState.REFUSED)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
    return start, start + dt.timedelta(days=1)


def compare(*, statement: list[StatementLine], attempts: list[PaymentAttempt], receipts: dict[str, str | None],
            refunds: list[PaymentRefund] = ()) -> list[Difference]:
    """Pure comparison. ``receipts`` maps an order public id to its receipt number (or None);
    ``refunds`` are our refunds that succeeded that day or did not succeed at all."""
    diffs = _payment_differences(statement, attempts, receipts)
    return diffs + _refund_differences(statement, refunds)


def _payment_differences(statement, attempts, receipts) -> list[Difference]:
    diffs: list[Difference] = []
    ours = {a.transaction_id: a for a in attempts if a.transaction_id}
    by_no = {a.out_trade_no: a for a in attempts}
    seen: set[str] = set()
    for line in statement:
        if line.state != "SUCCESS":
            continue
        seen.add(line.transaction_id)
        attempt = ours.get(line.transaction_id) or by_no.get(line.out_trade_no)
        if attempt is None or attempt.state not in CHARGED:
            diffs.append(Difference("missing_at_us", KINDS["missing_at_us"], line.out_trade_no, line.transaction_id,
                                    f"渠道金额 {line.amount_fen} 分"))
            continue
        if to_fen(attempt.amount) != line.amount_fen:
            diffs.append(Difference("amount_mismatch", KINDS["amount_mismatch"], line.out_trade_no, line.transaction_id,
                                    f"我方 {to_fen(attempt.amount)} 分，渠道 {line.amount_fen} 分"))
    for attempt in attempts:
        if attempt.state == AttemptState.DUPLICATE:
            diffs.append(Difference("double_payment", KINDS["double_payment"], attempt.out_trade_no, attempt.transaction_id or "",
                                    f"缴费单 {attempt.order.public_id} 已由另一笔支付入账，{attempt.amount} 元待原路退回"))
        if attempt.state == AttemptState.REFUND_DUE:
            diffs.append(Difference("refund_due", KINDS["refund_due"], attempt.out_trade_no, attempt.transaction_id or "",
                                    f"缴费单 {attempt.order.public_id}：{attempt.failure_reason or '核心拒绝入账'}，{attempt.amount} 元待退款"))
        if attempt.state == AttemptState.PAID:
            if attempt.transaction_id not in seen:
                diffs.append(Difference("missing_at_channel", KINDS["missing_at_channel"], attempt.out_trade_no,
                                        attempt.transaction_id or "", f"我方金额 {attempt.amount} 元"))
            if not receipts.get(attempt.order.public_id):
                diffs.append(Difference("no_tax_receipt", KINDS["no_tax_receipt"], attempt.out_trade_no, attempt.transaction_id or "",
                                        f"缴费单 {attempt.order.public_id}"))
    return diffs


def _refund_differences(statement: list[StatementLine], refunds: list[PaymentRefund]) -> list[Difference]:
    diffs: list[Difference] = []
    done = {r.out_refund_no: r for r in refunds if r.state == PaymentRefundState.SUCCEEDED}
    at_channel: set[str] = set()
    for line in statement:
        if line.state != "REFUND":
            continue
        ours = done.get(line.out_refund_no)
        if ours is None or to_fen(ours.amount) != line.amount_fen:
            diffs.append(Difference("refund_unknown", KINDS["refund_unknown"], line.out_trade_no, line.transaction_id,
                                    f"退款单 {line.out_refund_no or '（无）'}，{line.amount_fen} 分"))
            continue
        at_channel.add(line.out_refund_no)
    for refund in refunds:
        attempt = refund.attempt
        if refund.state == PaymentRefundState.SUCCEEDED and refund.out_refund_no not in at_channel:
            diffs.append(Difference("refund_missing_at_channel", KINDS["refund_missing_at_channel"], attempt.out_trade_no,
                                    attempt.transaction_id or "", f"退款单 {refund.out_refund_no}，{refund.amount} 元"))
        if refund.state in FAILED_REFUNDS:
            diffs.append(Difference("refund_failed", KINDS["refund_failed"], attempt.out_trade_no, attempt.transaction_id or "",
                                    f"退款单 {refund.out_refund_no}，{refund.amount} 元：{refund.failure_reason or refund.get_state_display()}，"
                                    "请在支付渠道商户平台人工处理"))
    return diffs


def reconcile_day(*, channel, day: dt.date) -> tuple[list[StatementLine], list[PaymentAttempt], list[Difference]]:
    """Fetch the channel's statement of ``day`` (Asia/Shanghai) and compare it
    with our attempts paid that day; the core's receipts are checked too."""
    start, end = _day_bounds(day)
    statement = channel.statement(day)
    attempts = list(
        PaymentAttempt.objects.select_related("order")
        .filter(channel=channel.name, state__in=CHARGED, paid_at__gte=start, paid_at__lt=end)
    )
    core = get_core()
    receipts = {a.order.public_id: (a.order.receipt_no if a.order.receipt_no and core.tax_receipt_get(receipt_no=a.order.receipt_no)
                                    else None) for a in attempts if a.state == AttemptState.PAID}
    refunds = list(
        PaymentRefund.objects.select_related("attempt").filter(attempt__channel=channel.name)
        .filter(Q(state=PaymentRefundState.SUCCEEDED, succeeded_at__gte=start, succeeded_at__lt=end) | Q(state__in=FAILED_REFUNDS))
    )
    return statement, attempts, compare(statement=statement, attempts=attempts, receipts=receipts, refunds=refunds)
