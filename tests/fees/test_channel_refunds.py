"""A bill paid twice: the second payment is refunded back the way it came (原路退回) through the
channel's refund API, over HTTP against the WeChat Pay simulator; committed before the channel is
asked, settled by query or notification whichever is first, never twice; archived, audited,
reconciled; seen by the payer on the bill."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from shebao.adapters.payment import get_payment_channel
from shebao.archive.models import ArchiveRecord
from shebao.audit.models import AuditEvent
from shebao.common.states import StateTransition
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from shebao.core.models import TaxReceipt
from shebao.fees import channel_refunds
from shebao.fees.models import (
    AttemptState,
    NotificationOutcome,
    PaymentAttempt,
    PaymentLedgerEntry,
    PaymentNotification,
    PaymentOrder,
    PaymentRefund,
    PaymentRefundState,
)
from tests.concurrency import wait_for
from tests.fees.helpers import FEE_NOW, pay_twice

pytestmark = pytest.mark.django_db(transaction=True)
ZHANG = DEMO_PEOPLE[0]


def _twice(client, sims, clock) -> PaymentAttempt:
    order_id = pay_twice(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    return wait_for(lambda: PaymentAttempt.objects.filter(order__public_id=order_id, state=AttemptState.DUPLICATE).first(),
                    "the second payment to be kept as a double payment")


def _sim_refunds(sims) -> list[tuple]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(sims.state_dir / "wxpay.sqlite3")) as db:
        return db.execute("SELECT out_refund_no, out_trade_no, refund_fen, status FROM refunds ORDER BY out_refund_no").fetchall()


def test_a_second_payment_goes_back_the_way_it_came(client, sims, clock, demo_people):
    duplicate = _twice(client, sims, clock)
    order = duplicate.order
    assert (PaymentOrder.objects.get(pk=order.pk).state, TaxReceipt.objects.count()) == ("paid", 1)

    first = channel_refunds.payment_refunds_run(now=clock.now)  # opened, sent: the channel has it PROCESSING
    assert first == {"opened": 1, "settled": 0, "open": 1, "retry_later": 0}
    refund = PaymentRefund.objects.get(attempt=duplicate)
    assert (refund.state, refund.amount, refund.out_refund_no) == (PaymentRefundState.PROCESSING, Decimal("874.20"),
                                                                   f"RF{duplicate.out_trade_no}")
    clock.advance(minutes=1)
    channel_refunds.payment_refunds_run(now=clock.now)  # the query: SUCCESS (and the channel notifies too)
    refund.refresh_from_db()
    assert refund.state == PaymentRefundState.SUCCEEDED and refund.refund_id and refund.received_account
    assert PaymentAttempt.objects.get(pk=duplicate.pk).state == AttemptState.REFUNDED
    notice = wait_for(lambda: PaymentNotification.objects.filter(outcome=NotificationOutcome.REFUND).first(), "the refund notification")
    assert notice.detail == f"{refund.out_refund_no} SUCCESS → succeeded"  # the query was first: the notification changed nothing

    assert _sim_refunds(sims) == [(refund.out_refund_no, duplicate.out_trade_no, 87420, "SUCCESS")]
    ledger = list(PaymentLedgerEntry.objects.filter(refund=refund).order_by("pk").values_list("kind", "amount"))
    assert ledger == [("refund_due", Decimal("874.20")), ("refunded", Decimal("-874.20"))]
    archived = ArchiveRecord.objects.get(business_type="payment_refund")
    assert (archived.business_ref, archived.subject_ref) == (refund.out_refund_no, order.account.public_id)
    assert list(AuditEvent.objects.filter(subject_ref=refund.public_id).order_by("pk").values_list("action", flat=True)) == [
        "fees.refund_open", "fees.refund_processing", "fees.refund_succeeded"]
    assert list(StateTransition.objects.filter(object_ref=refund.public_id).values_list("from_state", "to_state")) == [
        ("pending", "processing"), ("processing", "succeeded")]

    assert channel_refunds.payment_refunds_run(now=clock.now) == {"opened": 0, "settled": 0, "open": 0, "retry_later": 0}
    page = client.get(f"/fees/orders/{order.public_id}").content.decode()
    assert "另一笔支付 874.20元" in page and "已原路退回" in page and refund.received_account in page


def test_the_notification_alone_settles_it_and_a_replay_changes_nothing(client, sims, clock, demo_people):
    duplicate = _twice(client, sims, clock)
    channel_refunds.payment_refunds_run(now=clock.now)
    refund = PaymentRefund.objects.get(attempt=duplicate)
    # someone else asks the channel (its console, a second worker): the channel settles and notifies
    get_payment_channel().refund_query(refund.out_refund_no)
    wait_for(lambda: PaymentRefund.objects.filter(pk=refund.pk, state=PaymentRefundState.SUCCEEDED).exists(),
             "the refund notification to settle the refund")
    assert PaymentAttempt.objects.get(pk=duplicate.pk).state == AttemptState.REFUNDED
    assert PaymentLedgerEntry.objects.filter(refund=refund).count() == 2
    assert channel_refunds.payment_refunds_run(now=clock.now)["open"] == 0


@pytest.mark.parametrize("outcome", ["ABNORMAL", "CLOSED"])
def test_a_refund_that_fails_is_kept_for_staff_and_reconciled(client, sims, clock, demo_people, outcome, capsys):
    duplicate = _twice(client, sims, clock)
    sims.control("wxpay", refund=outcome)
    channel_refunds.payment_refunds_run(now=clock.now)
    channel_refunds.payment_refunds_run(now=clock.now)
    refund = PaymentRefund.objects.get(attempt=duplicate)
    assert refund.state == outcome.lower() and refund.failure_reason
    assert PaymentAttempt.objects.get(pk=duplicate.pk).state == AttemptState.DUPLICATE  # still owed to the payer
    assert list(PaymentLedgerEntry.objects.filter(refund=refund).values_list("kind", flat=True)) == ["refund_due"]
    clock.advance(days=1)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="2 处差异"):  # the money still owed, and the refund that failed
        call_command("reconcile", "--date", FEE_NOW.date().isoformat())
    out = capsys.readouterr().out
    assert f"差异 [原路退款未成功] 商户订单号 {duplicate.out_trade_no}" in out and refund.failure_reason in out
    assert f"差异 [重复支付待退款] 商户订单号 {duplicate.out_trade_no}" in out


def test_the_days_statement_balances_with_the_refund(client, sims, clock, demo_people, capsys):
    duplicate = _twice(client, sims, clock)
    channel_refunds.payment_refunds_run(now=clock.now)
    channel_refunds.payment_refunds_run(now=clock.now)
    assert PaymentRefund.objects.get(attempt=duplicate).state == PaymentRefundState.SUCCEEDED
    clock.advance(days=1)
    call_command("reconcile", "--date", FEE_NOW.date().isoformat())
    out = capsys.readouterr().out
    assert "对账平衡" in out


def test_a_channel_that_is_down_leaves_the_refund_for_the_next_run(client, sims, clock, demo_people):
    duplicate = _twice(client, sims, clock)
    sims.control("wxpay", api="system_error")
    assert channel_refunds.payment_refunds_run(now=clock.now) == {"opened": 1, "settled": 0, "open": 0, "retry_later": 1}
    refund = PaymentRefund.objects.get(attempt=duplicate)
    assert refund.state == PaymentRefundState.PENDING and _sim_refunds(sims) == []
    sims.control("wxpay", api="ok")
    channel_refunds.payment_refunds_run(now=clock.now)
    channel_refunds.payment_refunds_run(now=clock.now)
    assert PaymentRefund.objects.get(pk=refund.pk).state == PaymentRefundState.SUCCEEDED
    assert len(_sim_refunds(sims)) == 1


def test_the_job_asks_again_soon_while_the_channel_is_processing(client, sims, clock, demo_people, settings):
    from django_tasks_db.models import DBTaskResult

    from shebao.fees.tasks import FOLLOW_UPS, refund_charged_payments

    _twice(client, sims, clock)
    DBTaskResult.objects.all().delete()  # the job queued by the double payment: run here by hand
    assert refund_charged_payments.call()["open"] == 1
    follow_up = DBTaskResult.objects.get()
    assert (follow_up.task_path, follow_up.args_kwargs["kwargs"]) == ("shebao.fees.tasks.refund_charged_payments", {"follow_up": 1})
    assert refund_charged_payments.call(follow_up=FOLLOW_UPS)["settled"] == 1  # settled: nothing more is queued
    assert DBTaskResult.objects.count() == 1


def test_the_refund_notify_endpoint_answers_the_channel_contract(client, sims, clock, demo_people):
    bad = client.post("/api/pay/wechatpay/refund-notify", data=b'{"id":"x"}', content_type="application/json",
                      HTTP_WECHATPAY_SIGNATURE="bad", HTTP_WECHATPAY_TIMESTAMP=str(int(clock.now.timestamp())),
                      HTTP_WECHATPAY_NONCE="n", HTTP_WECHATPAY_SERIAL="PUB_KEY_ID_0000000000000000000000000000")
    assert bad.status_code == 401 and bad.json() == {"code": "FAIL", "message": "失败"}
    assert PaymentNotification.objects.filter(outcome=NotificationOutcome.REJECTED, detail__startswith="退款通知").count() == 1
    assert client.post("/api/pay/alipay/refund-notify", data=b"{}", content_type="application/json").status_code == 400
    assert PaymentRefund.objects.count() == 0
