"""Fee-business services (REQUIREMENTS §2.1–2.2): declare, pay, credit a payment
exactly once, close stale attempts. The only writers of orders and attempts.

Money: Decimal yuan (14,2) here; integer fen only inside the payment adapter
(``shebao.rules.money.to_fen`` at the boundary)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from shebao.accounts.models import Account
from shebao.adapters.core import get_core
from shebao.adapters.core.port import CoreConflict, DeclarationRequest
from shebao.adapters.payment import get_payment_channel
from shebao.adapters.payment.port import Bill, ChannelTransaction, LaunchParams, NotificationRejected, PaymentError
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.idempotency import IdempotencyConflict, fingerprint, idempotency_claim, idempotency_complete
from shebao.common.states import transition
from shebao.fees.models import (
    AttemptState,
    NotificationOutcome,
    OrderState,
    PaymentAttempt,
    PaymentNotification,
    PaymentOrder,
)
from shebao.fees.quotes import Quote, item_order
from shebao.rules.money import to_fen

logger = logging.getLogger("shebao.fees")
ATTEMPT_TTL = dt.timedelta(minutes=30)


class FeeError(Exception):
    """A fee request was refused; the message is for the person."""


# ---------------------------------------------------------------- declaring
def declaration_submit(*, account: Account, registration_no: str, quote: Quote, idempotency_key: str, now: dt.datetime,
                       request=None) -> PaymentOrder:
    """申报: send the quoted items to the core as self-declarations and open one
    bill for them. The quote must allow every item (the rule's own refusal is
    shown otherwise). A double-tapped confirm returns the first bill."""
    if not quote.allowed:
        raise FeeError("；".join(r.message for i in quote.items for r in i.decision.refusals) or "请选择要缴纳的险种")
    request_hash = fingerprint({
        "reg": registration_no,
        "items": [[i.insurance_type_code, i.contribution_year, [str(p) for p in i.periods], str(i.decision.total)] for i in quote.items],
    })
    try:
        with transaction.atomic():
            claim = idempotency_claim(scope=f"declare:{account.public_id}", key=idempotency_key, request_hash=request_hash)
            if not claim.fresh:
                return PaymentOrder.objects.get(public_id=claim.row.result, account=account)
            requests = [
                DeclarationRequest(
                    insurance_type_code=i.insurance_type_code, contribution_year=i.contribution_year,
                    period_from=i.periods[0].yyyymm, period_to=i.periods[-1].yyyymm,
                    base_amount=i.decision.lines[0].base, rate=i.decision.lines[0].rate,
                    lines=tuple((line.period.yyyymm, line.amount) for line in i.decision.lines),
                    rule_refs=(i.decision.rule_ref,),
                )
                for i in quote.items
            ]
            declarations = get_core().declaration_submit(registration_no=registration_no, requests=requests, now=now)
            order = _order_create(account=account, registration_no=registration_no, declarations=declarations, now=now)
            idempotency_complete(claim, result=order.public_id)
            audit_record(actor=account, action="fees.declare", subject_type="payment_order", subject_ref=order.public_id,
                         changes={"amount": {"old": None, "new": str(order.amount)}}, request=request, now=now)
            return order
    except IdempotencyConflict as exc:
        raise FeeError("该申报已提交，请在“缴费记录”中查看") from exc
    except CoreConflict as exc:
        raise FeeError(str(exc)) from exc


def order_for_assessed(*, account: Account, registration_no: str, declaration_nos: list[str], now: dt.datetime,
                       request=None) -> PaymentOrder:
    """A bill for assessed declarations pushed by social security (社保核定)."""
    core = get_core()
    pending = {d.declaration_no: d for d in core.declarations_pending(registration_no=registration_no)}
    chosen = [pending[n] for n in declaration_nos if n in pending]
    if not chosen or len(chosen) != len(declaration_nos):
        raise FeeError("所选核定应缴记录不存在或已缴费")
    open_order = PaymentOrder.objects.filter(account=account, state=OrderState.OPEN, declaration_nos=sorted(declaration_nos)).first()
    if open_order is not None:
        return open_order
    with transaction.atomic():
        order = _order_create(account=account, registration_no=registration_no, declarations=chosen, now=now)
        audit_record(actor=account, action="fees.assessed_order", subject_type="payment_order", subject_ref=order.public_id,
                     request=request, now=now)
    return order


def _order_create(*, account, registration_no, declarations, now) -> PaymentOrder:
    # the items in the one item order, then the months they cover together (the
    # whole span when the items cover different months), e.g. "2026年1月至3月"
    names = "、".join(dict.fromkeys(d.insurance_type for d in sorted(declarations, key=lambda d: item_order(d.insurance_type_code))))
    start, end = min(d.period_from for d in declarations), max(d.period_to for d in declarations)
    names += f" {start[:4]}年{int(start[4:])}月" + ("" if start == end else f"至{'' if start[:4] == end[:4] else end[:4] + '年'}{int(end[4:])}月")
    return PaymentOrder.objects.create(
        public_id=crypto.random_token(), account=account, registration_no=registration_no,
        declaration_nos=sorted(d.declaration_no for d in declarations), description=f"社保费：{names}"[:127],
        amount=sum((d.amount for d in declarations), Decimal("0.00")), created_at=now,
    )


# ---------------------------------------------------------------- paying
@dataclass(frozen=True)
class PaymentStart:
    attempt: PaymentAttempt
    launch: LaunchParams


def payment_start(*, account: Account, order: PaymentOrder, openid: str | None, client_ip: str, now: dt.datetime,
                  request=None) -> PaymentStart:
    """Open a new attempt at the channel for an open bill. Earlier attempts are
    queried first (a success is credited instead) and closed, so one bill is
    never charged twice (interfaces.md §4.4)."""
    if order.account_id != account.pk:
        raise FeeError("缴费单不存在")
    live = list(order.attempts.filter(state__in=[AttemptState.CREATED, AttemptState.FAILED]))
    if live:  # only a live attempt can have been paid meanwhile: ask the channel, then close what is left
        order = payment_refresh(order=order, now=now, attempts=live)
        live = list(order.attempts.filter(state__in=[AttemptState.CREATED, AttemptState.FAILED]))
    if order.state != OrderState.OPEN:
        raise FeeError("该缴费单已缴费" if order.state == OrderState.PAID else "该缴费单已取消")
    channel = get_payment_channel()
    for old in live:
        try:
            channel.close(old.out_trade_no)
        except PaymentError as exc:
            if exc.retryable:
                raise FeeError("支付渠道繁忙，请稍后重试") from exc
        transition(old, AttemptState.CLOSED, actor_ref=account.public_id, reason="发起新的支付前关闭", now=now)
    attempt = PaymentAttempt.objects.create(
        public_id=crypto.random_token(), order=order, channel=channel.name, out_trade_no=_out_trade_no(now),
        amount=order.amount, expire_at=now + ATTEMPT_TTL, created_at=now,
    )
    bill = Bill(out_trade_no=attempt.out_trade_no, description=order.description, amount_fen=to_fen(order.amount),
                payer_openid=openid, client_ip=client_ip, expire_at=attempt.expire_at, attach=order.public_id)
    try:
        launch = channel.create(bill)
    except PaymentError as exc:
        transition(attempt, AttemptState.FAILED, actor_ref="system", reason=f"下单失败 {exc.code}", now=now,
                   extra={"failure_reason": str(exc)[:128]})
        raise FeeError("支付渠道暂时无法下单，请稍后重试" if exc.retryable else f"下单失败：{exc}") from exc
    audit_record(actor=account, action="fees.payment_start", subject_type="payment_attempt", subject_ref=attempt.public_id,
                 request=request, now=now)
    return PaymentStart(attempt=attempt, launch=launch)


def _out_trade_no(now: dt.datetime) -> str:
    return f"SB{now:%Y%m%d%H%M%S}{crypto.random_token(9).replace('-', 'x').replace('_', 'y')[:12]}"


def payment_refresh(*, order: PaymentOrder, now: dt.datetime, attempts: list[PaymentAttempt] | None = None) -> PaymentOrder:
    """Query-on-return: ask the channel about the bill's live attempts (``attempts`` when
    the caller has just read them) and apply what it says (a success is credited exactly once)."""
    if order.state != OrderState.OPEN:
        return order
    channel = get_payment_channel()
    if attempts is None:
        attempts = list(order.attempts.filter(state__in=[AttemptState.CREATED, AttemptState.FAILED]))
    for attempt in attempts:
        try:
            txn = channel.query(attempt.out_trade_no)
        except PaymentError as exc:
            logger.warning("payment query failed", extra={"out_trade_no": attempt.out_trade_no, "code": exc.code})
            continue
        _apply_channel_state(attempt=attempt, txn=txn, now=now, source="query")
    return PaymentOrder.objects.get(pk=order.pk)


def _apply_channel_state(*, attempt: PaymentAttempt, txn: ChannelTransaction, now: dt.datetime, source: str) -> str:
    if txn.state == "SUCCESS":
        return payment_credit(attempt=attempt, txn=txn, now=now, source=source)
    if txn.state == "PAYERROR" and attempt.state == AttemptState.CREATED:
        transition(attempt, AttemptState.FAILED, actor_ref=f"channel:{attempt.channel}", reason=f"支付失败 {txn.raw_state_desc}"[:255],
                   now=now, extra={"failure_reason": (txn.raw_state_desc or "支付失败")[:128]})
    elif txn.state in ("CLOSED", "REVOKED") and attempt.state in (AttemptState.CREATED, AttemptState.FAILED):
        transition(attempt, AttemptState.CLOSED, actor_ref=f"channel:{attempt.channel}", reason="渠道已关闭订单", now=now)
    return NotificationOutcome.NOT_SUCCESS


def bill_mismatch(*, attempt: PaymentAttempt, txn: ChannelTransaction) -> str:
    """The fields the bill fixes that the channel's transaction contradicts, comma-separated
    ("" when all agree). The channel adapter has already refused another appid/mchid."""
    wrong = []
    if txn.currency != "CNY":
        wrong.append("currency")
    if txn.amount_fen != to_fen(attempt.amount):
        wrong.append("amount")
    if txn.out_trade_no != attempt.out_trade_no:
        wrong.append("out_trade_no")
    return ",".join(wrong)


def payment_credit(*, attempt: PaymentAttempt, txn: ChannelTransaction, now: dt.datetime, source: str) -> str:
    """Credit a successful channel transaction exactly once (REQUIREMENTS §2.2,
    security.md §6.2 invariants 1–3, 6). Locks the bill, then the attempt, in
    that order; checks the amount against our own record; the core issues one
    tax receipt per (channel, transaction id); payment archived and audited."""
    with transaction.atomic():
        order = PaymentOrder.objects.select_for_update(of=("self",)).select_related("account").get(pk=attempt.order_id)
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
        if txn.amount_fen != to_fen(attempt.amount):
            logger.error("payment amount mismatch", extra={"out_trade_no": attempt.out_trade_no, "source": source})
            return NotificationOutcome.WRONG_AMOUNT
        mismatched = bill_mismatch(attempt=attempt, txn=txn)
        if mismatched:  # field names only: no payer data in the log
            logger.error("payment does not match the bill", extra={"out_trade_no": attempt.out_trade_no, "source": source,
                                                                   "fields": mismatched})
            return NotificationOutcome.MISMATCH
        if attempt.state == AttemptState.PAID:
            return NotificationOutcome.DUPLICATE if attempt.transaction_id == txn.transaction_id else NotificationOutcome.DOUBLE_PAYMENT
        if attempt.state == AttemptState.DUPLICATE:
            return NotificationOutcome.DUPLICATE
        if order.state != OrderState.OPEN:
            transition(attempt, AttemptState.DUPLICATE, actor_ref=f"channel:{attempt.channel}", reason="缴费单已缴费，本次支付待退款",
                       now=now, extra={"transaction_id": txn.transaction_id, "paid_at": txn.success_time or now}, locked=True)
            logger.error("double payment of one bill", extra={"order": order.public_id, "out_trade_no": attempt.out_trade_no})
            return NotificationOutcome.DOUBLE_PAYMENT
        paid_at = txn.success_time or now
        receipt = get_core().payment_record(
            registration_no=order.registration_no, declaration_nos=list(order.declaration_nos), channel=attempt.channel,
            transaction_id=txn.transaction_id, amount=attempt.amount, paid_at=paid_at,
        )
        transition(attempt, AttemptState.PAID, actor_ref=f"channel:{attempt.channel}", reason=f"支付成功（{source}）", now=now,
                   extra={"transaction_id": txn.transaction_id, "paid_at": paid_at}, locked=True)
        transition(order, OrderState.PAID, actor_ref=f"channel:{attempt.channel}", reason=f"税票 {receipt.receipt_no}", now=now,
                   extra={"receipt_no": receipt.receipt_no, "paid_at": paid_at}, locked=True)
        archive_append(
            business_type="payment", business_ref=order.public_id, subject_ref=order.account.public_id,
            data={"order": order.public_id, "registration_no": order.registration_no, "declarations": list(order.declaration_nos),
                  "amount": attempt.amount, "channel": attempt.channel, "transaction_id": txn.transaction_id,
                  "out_trade_no": attempt.out_trade_no, "receipt_no": receipt.receipt_no, "paid_at": paid_at.isoformat()},
            now=now,
        )
        audit_record(actor=order.account, action="fees.paid", subject_type="payment_order", subject_ref=order.public_id,
                     changes={"state": {"old": "open", "new": "paid"}}, now=now)
    return NotificationOutcome.CREDITED


def notification_handle(*, channel_name: str, headers, body: bytes, now: dt.datetime) -> str:
    """A channel's payment notification: verify, find our attempt, credit once.
    Every notification is logged with its outcome; wrong ones raise alerts."""
    channel = get_payment_channel(channel_name)
    try:
        txn = channel.parse_notification(headers, body)
    except NotificationRejected as exc:
        # A signed but unreadable body (too large, nested too deep, not a Transaction) is MALFORMED (400),
        # any other refusal REJECTED (401); both recorded, neither believed.
        outcome = NotificationOutcome.MALFORMED if exc.reason == "malformed" else NotificationOutcome.REJECTED
        PaymentNotification.objects.create(channel=channel_name, outcome=outcome, detail=str(exc)[:255], received_at=now)
        logger.error("payment notification rejected", extra={"channel": channel_name, "reason": str(exc)[:120]})
        return outcome
    attempt = PaymentAttempt.objects.filter(channel=channel_name, out_trade_no=txn.out_trade_no).first()
    if attempt is None:
        outcome = NotificationOutcome.UNKNOWN_ORDER
        logger.error("payment notification for unknown order", extra={"out_trade_no": txn.out_trade_no})
    elif txn.state != "SUCCESS":
        outcome = _apply_channel_state(attempt=attempt, txn=txn, now=now, source="notify")
    else:
        outcome = payment_credit(attempt=attempt, txn=txn, now=now, source="notify")
    detail = bill_mismatch(attempt=attempt, txn=txn) if outcome in (NotificationOutcome.MISMATCH, NotificationOutcome.WRONG_AMOUNT) else ""
    PaymentNotification.objects.create(
        channel=channel_name, out_trade_no=txn.out_trade_no, transaction_id=txn.transaction_id or "", amount_fen=txn.amount_fen,
        outcome=outcome, detail=detail, received_at=now,
    )
    return outcome


def order_cancel(*, account: Account, order: PaymentOrder, now: dt.datetime, request=None) -> None:
    """Give up an unpaid bill: close its attempts, void its self-declarations."""
    order = payment_refresh(order=order, now=now)
    if order.state != OrderState.OPEN:
        raise FeeError("该缴费单已缴费，不能取消" if order.state == OrderState.PAID else "该缴费单已取消")
    channel = get_payment_channel()
    for attempt in order.attempts.filter(state__in=[AttemptState.CREATED, AttemptState.FAILED]):
        try:
            channel.close(attempt.out_trade_no)
        except PaymentError as exc:
            raise FeeError("支付渠道繁忙，请稍后重试") from exc
        transition(attempt, AttemptState.CLOSED, actor_ref=account.public_id, reason="取消缴费", now=now)
    core = get_core()
    with transaction.atomic():
        for d in core.declarations_get(registration_no=order.registration_no, declaration_nos=list(order.declaration_nos)):
            if d.mode == "self" and d.state == "declared":
                core.declaration_void(registration_no=order.registration_no, declaration_no=d.declaration_no, reason="缴费人取消", now=now)
        transition(order, OrderState.CANCELLED, actor_ref=account.public_id, reason="缴费人取消", now=now)
        audit_record(actor=account, action="fees.cancel", subject_type="payment_order", subject_ref=order.public_id, request=request, now=now)


def attempts_close_stale(*, now: dt.datetime) -> dict[str, int]:
    """Background job: every attempt past its expiry is queried (a success is
    credited) and otherwise closed at the channel."""
    counts = {"credited": 0, "closed": 0, "errors": 0}
    channel = get_payment_channel()
    for attempt in PaymentAttempt.objects.filter(state__in=[AttemptState.CREATED, AttemptState.FAILED], expire_at__lt=now):
        try:
            txn = channel.query(attempt.out_trade_no)
            if txn.state == "SUCCESS":
                payment_credit(attempt=attempt, txn=txn, now=now, source="sweep")
                counts["credited"] += 1
                continue
            channel.close(attempt.out_trade_no)
        except PaymentError:
            counts["errors"] += 1
            continue
        transition(attempt, AttemptState.CLOSED, actor_ref="system", reason="超时未支付，已关闭", now=now)
        counts["closed"] += 1
    return counts


