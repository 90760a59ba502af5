"""Money the channel charged that no bill keeps, refunded back the way it was paid (原路退回):
a second payment of a paid bill (DUPLICATE) and a payment the core refused to credit
(REFUND_DUE). Through the channel's own refund API (WeChat Pay v3 domestic refunds), never by
hand.

Crash safety: the ``PaymentRefund`` row, with its ``out_refund_no`` (the channel's idempotency
key), is committed before the channel is asked. Whatever happens after that (a timeout, a
worker killed after the channel accepted and before our commit), the row is still PENDING and
the next run asks the channel about that same ``out_refund_no`` first, and sends the refund
(the identical request) only if the channel has none: there is never a second refund.

The outcome arrives by the channel's refund notification or by query, whichever is first; both
go through :func:`payment_refund_settle`, which is idempotent."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from shebao.adapters.payment import get_payment_channel
from shebao.adapters.payment.port import ChannelRefund, NotificationRejected, PaymentError
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor, Door
from shebao.common.metrics import CHANNEL_REFUNDS, PAYMENT_NOTIFICATIONS, count
from shebao.common.states import transition
from shebao.fees.models import (
    AttemptState,
    NotificationOutcome,
    PaymentAttempt,
    PaymentLedgerEntry,
    PaymentLedgerKind,
    PaymentNotification,
    PaymentRefund,
    PaymentRefundState,
)
from shebao.rules.money import to_fen

logger = logging.getLogger("shebao.fees")

REFUNDABLE = (AttemptState.DUPLICATE, AttemptState.REFUND_DUE)
REASONS = {AttemptState.DUPLICATE: "重复缴费退款", AttemptState.REFUND_DUE: "缴费未入账退款"}
# the channel's refund status → ours
STATES = {"PROCESSING": PaymentRefundState.PROCESSING, "SUCCESS": PaymentRefundState.SUCCEEDED,
          "ABNORMAL": PaymentRefundState.ABNORMAL, "CLOSED": PaymentRefundState.CLOSED}
OPEN_STATES = (PaymentRefundState.PENDING, PaymentRefundState.PROCESSING)


def _actor(channel: str, source: str) -> Actor:
    return Actor.system(f"channel:{channel}", door=Door.API if source == "notify" else Door.JOB)


def out_refund_no_for(attempt: PaymentAttempt) -> str:
    """The refund's number at the channel: fixed by the attempt, so it can only be this one."""
    return f"RF{attempt.out_trade_no}"


def payment_refund_open(*, attempt: PaymentAttempt, now: dt.datetime) -> PaymentRefund:
    """Record that the attempt's whole amount is to be refunded (committed before the channel is
    asked). Idempotent: the attempt's refund if it has one already."""
    with transaction.atomic():
        attempt = PaymentAttempt.objects.select_for_update().select_related("order__account").get(pk=attempt.pk)
        existing = PaymentRefund.objects.filter(attempt=attempt).first()
        if existing is not None:
            return existing
        if attempt.state not in REFUNDABLE:
            raise ValueError(f"attempt {attempt.out_trade_no} is {attempt.state}: nothing to refund")
        refund = PaymentRefund.objects.create(
            public_id=crypto.random_token(), attempt=attempt, out_refund_no=out_refund_no_for(attempt), amount=attempt.amount,
            charged_amount=attempt.amount, reason=REASONS[attempt.state], created_at=now,
        )
        actor = Actor.system("refund_charged_payments")
        PaymentLedgerEntry(refund=refund, kind=PaymentLedgerKind.REFUND_DUE, amount=attempt.amount,
                           reference=attempt.transaction_id or attempt.out_trade_no, actor_ref=actor.ref, at=now).save()
        audit_record(actor=actor, action="fees.refund_open", subject_type="payment_refund", subject_ref=refund.public_id,
                     changes={"amount": {"old": "", "new": str(refund.amount)}, "attempt": {"old": "", "new": attempt.out_trade_no}},
                     now=now)
    return refund


def payment_refund_advance(*, refund: PaymentRefund, now: dt.datetime) -> str:
    """Bring one open refund forward; its state afterwards. PENDING: ask the channel about our
    ``out_refund_no`` first (a crash may have left a refund the channel already took), and send
    the refund only if it has none. PROCESSING: ask for the outcome. A retryable channel error
    is raised (the caller tries later); a final refusal is recorded as REFUSED."""
    refund = PaymentRefund.objects.select_related("attempt").get(pk=refund.pk)
    if refund.state not in OPEN_STATES:
        return refund.state
    channel = get_payment_channel(refund.attempt.channel)
    try:
        answer = channel.refund_query(refund.out_refund_no)
    except PaymentError as exc:
        if exc.code != "RESOURCE_NOT_EXISTS" or refund.state != PaymentRefundState.PENDING:
            raise
        try:
            answer = channel.refund(out_refund_no=refund.out_refund_no, out_trade_no=refund.attempt.out_trade_no,
                                    refund_fen=to_fen(refund.amount), total_fen=to_fen(refund.charged_amount), reason=refund.reason)
        except PaymentError as refused:
            if refused.retryable:
                raise
            return _refused(refund=refund, reason=f"{refused.code}：{refused}", now=now)
    return payment_refund_settle(answer=answer, now=now, source="query")


def _refused(*, refund: PaymentRefund, reason: str, now: dt.datetime) -> str:
    with transaction.atomic():
        PaymentAttempt.objects.select_for_update().get(pk=refund.attempt_id)
        row = PaymentRefund.objects.select_for_update().get(pk=refund.pk)
        if row.state != PaymentRefundState.PENDING:
            return row.state
        transition(row, PaymentRefundState.REFUSED, actor_ref=f"channel:{refund.attempt.channel}", reason=reason, now=now, locked=True,
                   extra={"failure_reason": reason[:128]})
        audit_record(actor=_actor(refund.attempt.channel, "query"), action="fees.refund_refused", subject_type="payment_refund",
                     subject_ref=row.public_id, outcome="failure", changes={"state": {"old": "pending", "new": "refused"}}, now=now)
    count(CHANNEL_REFUNDS, PaymentRefundState.REFUSED)
    logger.error("channel refused a refund", extra={"out_refund_no": refund.out_refund_no, "reason": reason[:120]})
    return PaymentRefundState.REFUSED


def _answer_mismatch(refund: PaymentRefund, answer: ChannelRefund) -> str:
    wrong = [name for name, ours, theirs in (
        ("out_trade_no", refund.attempt.out_trade_no, answer.out_trade_no),
        ("refund", to_fen(refund.amount), answer.refund_fen),
        ("total", to_fen(refund.charged_amount), answer.total_fen),
    ) if ours != theirs]
    return ",".join(wrong)


def payment_refund_settle(*, answer: ChannelRefund, now: dt.datetime, source: str) -> str:
    """Take the channel's word on one refund (its query answer or its notification): the refund's
    state afterwards. Locks the attempt, then the refund (the order ``payment_refund_open`` takes);
    a repeated or older word (PROCESSING after SUCCESS) changes nothing. On SUCCESS the attempt
    becomes REFUNDED, the ledger is settled, and the refund is archived."""
    row = PaymentRefund.objects.select_related("attempt").filter(out_refund_no=answer.out_refund_no).first()
    if row is None:
        raise ValueError(f"no refund {answer.out_refund_no}")
    mismatch = _answer_mismatch(row, answer)
    if mismatch:  # signed by the channel, but not our refund: believe nothing, a person must look
        logger.error("refund answer does not match our refund", extra={"out_refund_no": row.out_refund_no, "fields": mismatch})
        return row.state
    target = STATES[answer.status]
    with transaction.atomic():
        attempt = PaymentAttempt.objects.select_for_update().select_related("order__account").get(pk=row.attempt_id)
        row = PaymentRefund.objects.select_for_update().get(pk=row.pk)
        before = row.state
        if target == before or target not in PaymentRefund.TRANSITIONS[before]:
            return before
        actor = _actor(attempt.channel, source)
        extra = {"refund_id": answer.refund_id[:64], "received_account": answer.user_received_account[:64]}
        if target == PaymentRefundState.SUCCEEDED:
            extra["succeeded_at"] = answer.success_time or now
        elif target in (PaymentRefundState.ABNORMAL, PaymentRefundState.CLOSED):
            extra["failure_reason"] = {"ABNORMAL": "退款异常，银行卡或零钱账户无法入账", "CLOSED": "退款已关闭"}[answer.status]
        row = transition(row, target, actor_ref=f"channel:{attempt.channel}", reason=f"渠道退款状态 {answer.status}（{source}）", now=now,
                         locked=True, extra=extra)
        if target == PaymentRefundState.SUCCEEDED:
            _refunded(attempt=attempt, refund=row, actor=actor, now=now)
        audit_record(actor=actor, action=f"fees.refund_{target}", subject_type="payment_refund", subject_ref=row.public_id,
                     outcome="success" if target in (PaymentRefundState.PROCESSING, PaymentRefundState.SUCCEEDED) else "failure",
                     changes={"state": {"old": before, "new": target}}, now=now)
    if target != PaymentRefundState.PROCESSING:
        count(CHANNEL_REFUNDS, target)
    if target in (PaymentRefundState.ABNORMAL, PaymentRefundState.CLOSED):
        logger.error("refund did not reach the payer", extra={"out_refund_no": row.out_refund_no, "status": answer.status})
    return target


def _refunded(*, attempt: PaymentAttempt, refund: PaymentRefund, actor: Actor, now: dt.datetime) -> None:
    transition(attempt, AttemptState.REFUNDED, actor_ref=actor.ref, reason=f"已原路退回（{refund.refund_id}）", now=now, locked=True)
    PaymentLedgerEntry(refund=refund, kind=PaymentLedgerKind.REFUNDED, amount=-refund.amount, reference=refund.refund_id or refund.out_refund_no,
                       actor_ref=actor.ref, at=now).save()
    archive_append(
        business_type="payment_refund", business_ref=refund.out_refund_no, subject_ref=attempt.order.account.public_id,
        data={"out_refund_no": refund.out_refund_no, "refund_id": refund.refund_id, "order": attempt.order.public_id,
              "out_trade_no": attempt.out_trade_no, "transaction_id": attempt.transaction_id or "", "amount": str(refund.amount),
              "reason": refund.reason, "received_account": refund.received_account,
              "succeeded_at": refund.succeeded_at.isoformat() if refund.succeeded_at else ""},
        now=now,
    )


def payment_refunds_run(*, now: dt.datetime) -> dict[str, int]:
    """The job: open a refund for every charged payment no bill keeps, then bring every open
    refund forward. A channel that fails for one refund leaves it for the next run."""
    counts = {"opened": 0, "settled": 0, "open": 0, "retry_later": 0}
    for attempt in PaymentAttempt.objects.filter(state__in=REFUNDABLE, refund__isnull=True).order_by("paid_at"):
        payment_refund_open(attempt=attempt, now=now)
        counts["opened"] += 1
    for refund in PaymentRefund.objects.filter(state__in=OPEN_STATES).order_by("created_at"):
        try:
            state = payment_refund_advance(refund=refund, now=now)
        except PaymentError as exc:
            logger.warning("refund left for the next run", extra={"out_refund_no": refund.out_refund_no, "code": exc.code})
            counts["retry_later"] += 1
            continue
        counts["open" if state in OPEN_STATES else "settled"] += 1
    return counts


def refund_notification_handle(*, channel_name: str, headers, body: bytes, now: dt.datetime) -> str:
    """A channel's refund notification: verify and decrypt it, refuse a replay (its nonce, as for
    payments), and take its word through :func:`payment_refund_settle`. Recorded with its outcome."""
    from shebao.fees.services import nonce_claim

    channel = get_payment_channel(channel_name)
    try:
        answer = channel.parse_refund_notification(headers, body)
    except NotificationRejected as exc:
        outcome = NotificationOutcome.MALFORMED if exc.reason == "malformed" else NotificationOutcome.REJECTED
        PaymentNotification.objects.create(channel=channel_name, outcome=outcome, detail=f"退款通知：{exc}"[:255], received_at=now)
        count(PAYMENT_NOTIFICATIONS, outcome)
        logger.error("refund notification rejected", extra={"channel": channel_name, "reason": str(exc)[:120]})
        return outcome
    lowered = {k.lower(): v for k, v in headers.items()}
    with transaction.atomic():
        nonce = nonce_claim(channel_name, lowered, now)
        if not nonce.fresh:
            outcome, detail = NotificationOutcome.REPLAYED, f"退款通知 {answer.out_refund_no}"
        elif not PaymentRefund.objects.filter(out_refund_no=answer.out_refund_no).exists():
            outcome, detail = NotificationOutcome.UNKNOWN_REFUND, answer.out_refund_no
            logger.error("refund notification for an unknown refund", extra={"out_refund_no": answer.out_refund_no})
        else:
            state = payment_refund_settle(answer=answer, now=now, source="notify")
            outcome, detail = NotificationOutcome.REFUND, f"{answer.out_refund_no} {answer.status} → {state}"
        PaymentNotification.objects.create(channel=channel_name, out_trade_no=answer.out_trade_no[:32],
                                           transaction_id=answer.transaction_id[:64], amount_fen=answer.refund_fen,
                                           outcome=outcome, detail=detail[:255], received_at=now)
        if nonce.fresh:
            nonce.row.outcome = outcome
            nonce.row.save(update_fields=["outcome"])
    count(PAYMENT_NOTIFICATIONS, outcome)
    return outcome
