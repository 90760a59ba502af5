"""Fee-business services (REQUIREMENTS §2.1–2.2): declare, pay, credit a payment
exactly once, close stale attempts. The only writers of orders and attempts.

Money: Decimal yuan (14,2) here; integer fen only inside the payment adapter
(``shebao.rules.money.to_fen`` at the boundary)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from shebao.adapters.core import get_core
from shebao.adapters.core.port import CoreConflict, DeclarationRequest
from shebao.adapters.payment import get_payment_channel
from shebao.adapters.payment.port import Bill, ChannelTransaction, LaunchParams, NotificationRejected, PaymentError
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor, Door
from shebao.common.idempotency import IdempotencyConflict, fingerprint, idempotency_claim, idempotency_complete
from shebao.common.metrics import PAYMENT_NOTIFICATIONS, PAYMENTS, count
from shebao.common.states import transition
from shebao.fees.models import (
    LIVE_ATTEMPT_STATES,
    AttemptState,
    NotificationNonce,
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


class StepUpRequired(FeeError):
    """A money operation without a recent SMS step-up; the view sends the person to the step-up page."""


class PaymentPending(FeeError):
    """The channel timed out or answered 5xx: the attempt is recorded as UNKNOWN (处理中) and resolved by query."""


def _require_step_up(actor: Actor, now: dt.datetime) -> None:
    """Money services refuse without a step-up within STEP_UP_VALID_SECONDS, whatever door
    the actor came in by (``Actor.step_up_fresh``)."""
    if not actor.step_up_fresh(now):
        raise StepUpRequired("为保障资金安全，请先进行短信验证")


def _channel_actor(attempt: PaymentAttempt, source: str) -> Actor:
    """Who credits a payment: the channel's word, reached by its notification (the API door),
    by the payer's return to the page (the web door) or by a sweep or reconciliation (a job)."""
    door = {"notify": Door.API, "query": Door.WEB}.get(source, Door.JOB)
    return Actor.system(f"channel:{attempt.channel}", door=door)


# ---------------------------------------------------------------- declaring
def declaration_submit(*, actor: Actor, registration_no: str, quote: Quote, idempotency_key: str, now: dt.datetime) -> PaymentOrder:
    """申报: send the quoted items to the core as self-declarations and open one
    bill for them. The quote must allow every item (the rule's own refusal is
    shown otherwise). A double-tapped confirm returns the first bill. Needs a
    recent step-up of the actor."""
    account = actor.citizen_account()
    _require_step_up(actor, now)
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
            audit_record(actor=actor, action="fees.declare", subject_type="payment_order", subject_ref=order.public_id,
                         changes={"amount": {"old": None, "new": str(order.amount)}}, now=now)
            return order
    except IdempotencyConflict as exc:
        raise FeeError("该申报已提交，请在“缴费记录”中查看") from exc
    except CoreConflict as exc:
        raise FeeError(str(exc)) from exc


def order_for_assessed(*, actor: Actor, registration_no: str, declaration_nos: list[str], now: dt.datetime) -> PaymentOrder:
    """A bill for assessed declarations pushed by social security (社保核定); needs a recent step-up.

    One open bill per set of declarations, race-free: the insert is refused by the database
    (``order_one_open_per_declarations``) when another request opened it first, and that
    bill is returned (concurrent taps make one bill)."""
    account = actor.citizen_account()
    _require_step_up(actor, now)
    core = get_core()
    pending = {d.declaration_no: d for d in core.declarations_pending(registration_no=registration_no)}
    chosen = [pending[n] for n in declaration_nos if n in pending]
    if not chosen or len(chosen) != len(set(declaration_nos)):
        raise FeeError("所选核定应缴记录不存在或已缴费")
    key = declaration_key(d.declaration_no for d in chosen)
    try:
        with transaction.atomic():
            order = _order_create(account=account, registration_no=registration_no, declarations=chosen, now=now)
            audit_record(actor=actor, action="fees.assessed_order", subject_type="payment_order", subject_ref=order.public_id,
                         now=now)
        return order
    except IntegrityError:
        existing = PaymentOrder.objects.filter(declaration_key=key, state=OrderState.OPEN).first()
        if existing is None or existing.account_id != account.pk:
            raise FeeError("该核定应缴记录正在办理，请稍后在“缴费记录”中查看") from None
        return existing


def declaration_key(declaration_nos) -> str:
    """The value of ``PaymentOrder.declaration_key`` for a set of declaration numbers."""
    return hashlib.sha256("|".join(sorted(set(declaration_nos))).encode()).hexdigest()


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
        declaration_key=declaration_key(d.declaration_no for d in declarations),
    )


# ---------------------------------------------------------------- paying
@dataclass(frozen=True)
class PaymentStart:
    attempt: PaymentAttempt
    launch: LaunchParams


def payment_start(*, actor: Actor, order: PaymentOrder, openid: str | None, now: dt.datetime) -> PaymentStart:
    """Open a new attempt at the channel for an open bill; needs a recent step-up. Earlier
    attempts are queried first (a success is credited instead) and closed, so one bill is
    never charged twice (interfaces.md §4.4). A timeout or 5xx on the order leaves the
    attempt UNKNOWN (the channel may have it) and raises :class:`PaymentPending`. The
    channel is given the actor's client address (WeChat Pay's ``payer_client_ip``)."""
    account = actor.citizen_account()
    if order.account_id != account.pk:
        raise FeeError("缴费单不存在")
    _require_step_up(actor, now)
    live = list(order.attempts.filter(state__in=LIVE_ATTEMPT_STATES))
    if live:  # only a live attempt can have been paid meanwhile: ask the channel, then close what is left
        order = payment_refresh(order=order, now=now, attempts=live)
        live = list(order.attempts.filter(state__in=LIVE_ATTEMPT_STATES))
    if order.state != OrderState.OPEN:
        raise FeeError("该缴费单已缴费" if order.state == OrderState.PAID else "该缴费单已取消")
    if any(a.state == AttemptState.UNKNOWN for a in live):  # its query failed just now: its outcome is still open
        raise PaymentPending("上一笔支付处理中，请稍候刷新本页查看结果")
    channel = get_payment_channel()
    for old in live:
        try:
            channel.close(old.out_trade_no)
        except PaymentError as exc:
            if exc.retryable:
                raise FeeError("支付渠道繁忙，请稍后重试") from exc
        transition(old, AttemptState.CLOSED, actor_ref=actor.ref, reason="发起新的支付前关闭", now=now)
    attempt = PaymentAttempt.objects.create(
        public_id=crypto.random_token(), order=order, channel=channel.name, out_trade_no=_out_trade_no(now),
        amount=order.amount, expire_at=now + ATTEMPT_TTL, created_at=now,
    )
    bill = Bill(out_trade_no=attempt.out_trade_no, description=order.description, amount_fen=to_fen(order.amount),
                payer_openid=openid, client_ip=actor.client_address or "127.0.0.1", expire_at=attempt.expire_at, attach=order.public_id)
    try:
        launch = channel.create(bill)
    except PaymentError as exc:
        if _outcome_unknown(exc):
            # the technical cause goes to the history only: the page shows the state, 处理中
            transition(attempt, AttemptState.UNKNOWN, actor_ref="system", reason=f"下单结果未知 {exc.code}: {exc}", now=now)
            count(PAYMENTS, "unknown")
            raise PaymentPending("支付处理中，请稍候刷新本页查看结果") from exc
        transition(attempt, AttemptState.FAILED, actor_ref="system", reason=f"下单失败 {exc.code}", now=now,
                   extra={"failure_reason": str(exc)[:128]})
        raise FeeError(f"下单失败：{exc}") from exc
    audit_record(actor=actor, action="fees.payment_start", subject_type="payment_attempt", subject_ref=attempt.public_id,
                 now=now)
    return PaymentStart(attempt=attempt, launch=launch)


def _outcome_unknown(exc: PaymentError) -> bool:
    """Whether the channel may have acted although we got no usable answer: a timeout, a
    transport failure, a 5xx/429 or an answer that failed verification."""
    return exc.retryable or exc.code == "RESPONSE_SIGNATURE_INVALID"


def _out_trade_no(now: dt.datetime) -> str:
    return f"SB{now:%Y%m%d%H%M%S}{crypto.random_token(9).replace('-', 'x').replace('_', 'y')[:12]}"


def payment_refresh(*, order: PaymentOrder, now: dt.datetime, attempts: list[PaymentAttempt] | None = None) -> PaymentOrder:
    """Query-on-return: ask the channel about the bill's live attempts (``attempts`` when
    the caller has just read them) and apply what it says (a success is credited exactly once).
    A query that times out or answers 5xx leaves the attempt UNKNOWN (处理中)."""
    if order.state != OrderState.OPEN:
        return order
    if attempts is None:
        attempts = list(order.attempts.filter(state__in=LIVE_ATTEMPT_STATES))
    for attempt in attempts:
        attempt_query(attempt=attempt, now=now, source="query")
    return PaymentOrder.objects.get(pk=order.pk)


def attempt_query(*, attempt: PaymentAttempt, now: dt.datetime, source: str) -> str | None:
    """Ask the channel about one attempt and apply its answer; the outcome, or None when the
    channel gave no usable answer (the attempt is then UNKNOWN, if it was waiting for payment).
    An UNKNOWN attempt the channel never received (ORDER_NOT_EXIST) is resolved as not paid."""
    try:
        txn = get_payment_channel(attempt.channel).query(attempt.out_trade_no)
    except PaymentError as exc:
        logger.warning("payment query failed", extra={"out_trade_no": attempt.out_trade_no, "code": exc.code})
        if exc.code == "ORDER_NOT_EXIST" and attempt.state == AttemptState.UNKNOWN:
            transition(attempt, AttemptState.FAILED, actor_ref=f"channel:{attempt.channel}", reason="渠道无此订单，下单未成功",
                       now=now, extra={"failure_reason": "下单未成功"})
            return NotificationOutcome.NOT_SUCCESS
        if _outcome_unknown(exc) and attempt.state == AttemptState.CREATED:
            transition(attempt, AttemptState.UNKNOWN, actor_ref="system", reason=f"查询结果未知 {exc.code}", now=now)
            count(PAYMENTS, "unknown")
        return None
    return _apply_channel_state(attempt=attempt, txn=txn, now=now, source=source)


def attempts_resolve_unknown(*, now: dt.datetime, channel_name: str | None = None) -> dict[str, int]:
    """Query every UNKNOWN (处理中) attempt (``manage.py reconcile`` and the sweep): counts of
    those now paid, now known not paid, and still unknown."""
    counts = {"paid": 0, "not_paid": 0, "unknown": 0}
    rows = PaymentAttempt.objects.filter(state=AttemptState.UNKNOWN)
    if channel_name:
        rows = rows.filter(channel=channel_name)
    for attempt in rows:
        outcome = attempt_query(attempt=attempt, now=now, source="resolve")
        state = PaymentAttempt.objects.get(pk=attempt.pk).state
        if outcome is None or state == AttemptState.UNKNOWN:
            counts["unknown"] += 1
        elif state in (AttemptState.PAID, AttemptState.DUPLICATE, AttemptState.REFUND_DUE, AttemptState.REFUNDED):
            counts["paid"] += 1
        else:
            counts["not_paid"] += 1
    return counts


def _apply_channel_state(*, attempt: PaymentAttempt, txn: ChannelTransaction, now: dt.datetime, source: str) -> str:
    if txn.state == "SUCCESS":
        return payment_credit(attempt=attempt, txn=txn, now=now, source=source)
    if txn.state == "PAYERROR" and attempt.state in (AttemptState.CREATED, AttemptState.UNKNOWN):
        count(PAYMENTS, "failed")
        transition(attempt, AttemptState.FAILED, actor_ref=f"channel:{attempt.channel}", reason=f"支付失败 {txn.raw_state_desc}"[:255],
                   now=now, extra={"failure_reason": (txn.raw_state_desc or "支付失败")[:128]})
    elif txn.state in ("CLOSED", "REVOKED") and attempt.state in LIVE_ATTEMPT_STATES:
        transition(attempt, AttemptState.CLOSED, actor_ref=f"channel:{attempt.channel}", reason="渠道已关闭订单", now=now)
    elif txn.state in ("NOTPAY", "USERPAYING") and attempt.state == AttemptState.UNKNOWN:
        transition(attempt, AttemptState.CREATED, actor_ref=f"channel:{attempt.channel}", reason="渠道订单待支付", now=now)
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
        if attempt.state in (AttemptState.DUPLICATE, AttemptState.REFUND_DUE, AttemptState.REFUNDED):
            return NotificationOutcome.DUPLICATE
        if order.state != OrderState.OPEN:
            transition(attempt, AttemptState.DUPLICATE, actor_ref=f"channel:{attempt.channel}", reason="缴费单已缴费，本次支付待退款",
                       now=now, extra={"transaction_id": txn.transaction_id, "paid_at": txn.success_time or now}, locked=True)
            logger.error("double payment of one bill", extra={"order": order.public_id, "out_trade_no": attempt.out_trade_no})
            count(PAYMENTS, "double_payment")
            _refund_soon()
            return NotificationOutcome.DOUBLE_PAYMENT
        paid_at = txn.success_time or now
        try:
            with transaction.atomic():  # a savepoint: the core's refusal must not doom our transaction
                receipt = get_core().payment_record(
                    registration_no=order.registration_no, declaration_nos=list(order.declaration_nos), channel=attempt.channel,
                    transaction_id=txn.transaction_id, amount=attempt.amount, paid_at=paid_at,
                )
        except CoreConflict as exc:
            return _charged_not_credited(order=order, attempt=attempt, txn=txn, paid_at=paid_at, now=now, reason=str(exc))
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
        audit_record(actor=_channel_actor(attempt, source), action="fees.paid", subject_type="payment_order", subject_ref=order.public_id,
                     changes={"state": {"old": "open", "new": "paid"}}, now=now)
    count(PAYMENTS, "credited")
    return NotificationOutcome.CREDITED


def _charged_not_credited(*, order: PaymentOrder, attempt: PaymentAttempt, txn: ChannelTransaction, paid_at: dt.datetime,
                          now: dt.datetime, reason: str) -> str:
    """The channel charged the person but the core refused the credit (the declarations were
    voided or paid meanwhile, or their amount changed): the money is recorded as to refund
    (REFUND_DUE, listed by ``manage.py reconcile``), the bill can no longer be paid and is
    cancelled, and the channel is answered success (the money is accounted for). Both rows
    are locked by the caller."""
    actor = f"channel:{attempt.channel}"
    transition(attempt, AttemptState.REFUND_DUE, actor_ref=actor, reason=f"已扣款，核心拒绝入账（{reason}），待退款", now=now,
               extra={"transaction_id": txn.transaction_id, "paid_at": paid_at, "failure_reason": reason[:128]}, locked=True)
    transition(order, OrderState.CANCELLED, actor_ref=actor, reason=f"申报已变更（{reason}），本次支付待退款", now=now, locked=True)
    audit_record(actor=Actor.system(f"channel:{attempt.channel}"), action="fees.refund_due", subject_type="payment_attempt", subject_ref=attempt.public_id,
                 changes={"state": {"old": "open", "new": "cancelled"}}, now=now)
    logger.error("payment charged but not credited: refund due", extra={"order": order.public_id, "out_trade_no": attempt.out_trade_no})
    count(PAYMENTS, "refund_due")
    _refund_soon()
    return NotificationOutcome.REFUND_DUE


def _refund_soon() -> None:
    """Queue the refund job in the caller's transaction (shebao.fees.channel_refunds): the money
    goes back the way it came within a worker's round, not at the next periodic run."""
    from shebao.fees.tasks import refund_charged_payments

    refund_charged_payments.enqueue()


NONCE_KEEP = dt.timedelta(minutes=10)  # twice the signature's timestamp window (signing.MAX_CLOCK_SKEW_SECONDS)


def notification_handle(*, channel_name: str, headers, body: bytes, now: dt.datetime) -> str:
    """A channel's payment notification: verify, refuse a replay, find our attempt, credit once.
    Every notification is logged with its outcome; wrong ones raise alerts.

    Replays: an authentic notification's ``Wechatpay-Nonce`` is claimed by a unique insert in
    the same transaction as its handling (a crash releases it, so the channel's retry is
    handled). A second copy of the same signed message finds it claimed: it is recorded as
    REPLAYED (with the original's outcome) and nothing is done. WeChat Pay re-signs every
    delivery (a retry past 5 minutes would fail the timestamp check otherwise), so a replay is
    never the channel's own retry: it is a copy of a message already handled and recorded,
    and is answered "received" (204) so nothing retries it. A new notification (new nonce)
    for a paid bill is still an idempotent DUPLICATE."""
    channel = get_payment_channel(channel_name)
    try:
        txn = channel.parse_notification(headers, body)
    except NotificationRejected as exc:
        # A signed but unreadable body (too large, nested too deep, not a Transaction) is MALFORMED (400),
        # any other refusal REJECTED (401); both recorded, neither believed.
        outcome = NotificationOutcome.MALFORMED if exc.reason == "malformed" else NotificationOutcome.REJECTED
        PaymentNotification.objects.create(channel=channel_name, outcome=outcome, detail=str(exc)[:255], received_at=now)
        count(PAYMENT_NOTIFICATIONS, outcome)
        logger.error("payment notification rejected", extra={"channel": channel_name, "reason": str(exc)[:120]})
        return outcome
    lowered = {k.lower(): v for k, v in headers.items()}
    with transaction.atomic():
        nonce = nonce_claim(channel_name, lowered, now)
        if not nonce.fresh:
            PaymentNotification.objects.create(
                channel=channel_name, out_trade_no=txn.out_trade_no, transaction_id=txn.transaction_id or "", amount_fen=txn.amount_fen,
                outcome=NotificationOutcome.REPLAYED, detail=f"原通知：{nonce.row.outcome or '处理中'}", received_at=now,
            )
            logger.error("payment notification replayed", extra={"channel": channel_name, "out_trade_no": txn.out_trade_no})
            count(PAYMENT_NOTIFICATIONS, NotificationOutcome.REPLAYED)
            return NotificationOutcome.REPLAYED
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
        nonce.row.outcome = outcome
        nonce.row.save(update_fields=["outcome"])
    count(PAYMENT_NOTIFICATIONS, outcome)
    return outcome


@dataclass(frozen=True)
class NonceClaim:
    row: NotificationNonce
    fresh: bool


def nonce_claim(channel_name: str, headers: dict[str, str], now: dt.datetime) -> NonceClaim:
    """Claim the notification's nonce (stored hashed: fixed length whatever the header). On
    PostgreSQL a concurrent copy waits on the unique index until the first commits, then
    finds the row. Call inside the handling transaction."""
    digest = hashlib.sha256(headers.get("wechatpay-nonce", "").encode()).hexdigest()
    signed_at = dt.datetime.fromtimestamp(int(headers.get("wechatpay-timestamp") or 0), tz=dt.UTC)
    try:
        with transaction.atomic():
            return NonceClaim(NotificationNonce.objects.create(channel=channel_name, nonce=digest, signed_at=signed_at, received_at=now),
                               fresh=True)
    except IntegrityError:
        return NonceClaim(NotificationNonce.objects.get(channel=channel_name, nonce=digest), fresh=False)


def notification_nonces_prune(*, now: dt.datetime) -> int:
    """Forget nonces whose notifications can no longer pass the timestamp check (background job)."""
    return NotificationNonce.objects.filter(received_at__lt=now - NONCE_KEEP).delete()[0]


def order_cancel(*, actor: Actor, order: PaymentOrder, now: dt.datetime) -> None:
    """Give up an unpaid bill: close its attempts, void its self-declarations."""
    if order.account_id != actor.citizen_account().pk:
        raise FeeError("缴费单不存在")
    order = payment_refresh(order=order, now=now)
    if order.state != OrderState.OPEN:
        raise FeeError("该缴费单已缴费，不能取消" if order.state == OrderState.PAID else "该缴费单已取消")
    channel = get_payment_channel()
    if order.attempts.filter(state=AttemptState.UNKNOWN).exists():  # its query failed just now
        raise FeeError("支付处理中，暂不能取消，请稍候刷新本页查看结果")
    for attempt in order.attempts.filter(state__in=LIVE_ATTEMPT_STATES):
        try:
            channel.close(attempt.out_trade_no)
        except PaymentError as exc:
            raise FeeError("支付渠道繁忙，请稍后重试") from exc
        transition(attempt, AttemptState.CLOSED, actor_ref=actor.ref, reason="取消缴费", now=now)
    core = get_core()
    with transaction.atomic():
        for d in core.declarations_get(registration_no=order.registration_no, declaration_nos=list(order.declaration_nos)):
            if d.mode == "self" and d.state == "declared":
                core.declaration_void(registration_no=order.registration_no, declaration_no=d.declaration_no, reason="缴费人取消", now=now)
        transition(order, OrderState.CANCELLED, actor_ref=actor.ref, reason="缴费人取消", now=now)
        audit_record(actor=actor, action="fees.cancel", subject_type="payment_order", subject_ref=order.public_id, now=now)


def attempts_close_stale(*, now: dt.datetime) -> dict[str, int]:
    """Background job: every live attempt past its expiry is queried (a success is
    credited) and otherwise closed at the channel; an UNKNOWN one that the query
    cannot resolve stays UNKNOWN. Old notification nonces are pruned."""
    counts = {"credited": 0, "closed": 0, "errors": 0}
    channel = get_payment_channel()
    for attempt in PaymentAttempt.objects.filter(state__in=LIVE_ATTEMPT_STATES, expire_at__lt=now):
        outcome = attempt_query(attempt=attempt, now=now, source="sweep")
        attempt = PaymentAttempt.objects.get(pk=attempt.pk)
        if outcome is None or attempt.state == AttemptState.UNKNOWN:
            counts["errors"] += 1
            continue
        if attempt.state in (AttemptState.PAID, AttemptState.DUPLICATE, AttemptState.REFUND_DUE):
            counts["credited"] += 1
            continue
        if attempt.state == AttemptState.CLOSED:
            continue
        try:
            channel.close(attempt.out_trade_no)
        except PaymentError as exc:
            if exc.code != "ORDER_NOT_EXIST":
                counts["errors"] += 1
                continue
        transition(attempt, AttemptState.CLOSED, actor_ref="system", reason="超时未支付，已关闭", now=now)
        counts["closed"] += 1
    notification_nonces_prune(now=now)
    return counts
