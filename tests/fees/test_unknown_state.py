"""A channel timeout or 5xx on order or query: the attempt is UNKNOWN (处理中) — not failed —
and a later query (the bill page, ``manage.py reconcile``) resolves it to paid or not paid.
Driven through the pages against the WeChat Pay simulator's fault switches."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

import pytest
from django.core.management import call_command

from shebao.common.states import StateTransition
from shebao.core.models import TaxReceipt
from shebao.fees.models import AttemptState, PaymentAttempt, PaymentOrder
from tests.fees.helpers import FEE_NOW, cashier, declare, identify_wechat, logged_in, order_id_from, start_payment

pytestmark = pytest.mark.django_db(transaction=True)
ZHANG_ID = "450103198506011239"


def _declared(client, sims, clock, period: str) -> str:
    logged_in(client, sims, clock, ZHANG_ID, "Demo@2026")
    sims.control("wxpay", notify="none")
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from=period, period_to=period, base="4371.00"))
    identify_wechat(client, order_id)
    return order_id


def _sim_prepay_id(sims, out_trade_no: str, timeout: float = 10.0) -> str | None:
    """The prepay_id the simulator gave the order, once it has the order (waits with a deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(sims.state_dir / "wxpay.sqlite3")) as db:
            row = db.execute("SELECT prepay_id FROM orders WHERE out_trade_no = ?", (out_trade_no,)).fetchone()
        if row:
            return row[0]
        time.sleep(0.05)
    return None


def test_order_5xx_is_unknown_shown_processing_then_resolved_not_paid_on_the_bill_page(client, sims, clock, demo_people):
    order_id = _declared(client, sims, clock, "2026-06")
    sims.control("wxpay", api="system_error")  # 500 SYSTEM_ERROR: the channel may or may not have the order
    answer = client.post(f"/fees/orders/{order_id}", {"action": "pay"})
    assert answer.status_code == 302 and answer["Location"] == f"/fees/orders/{order_id}"
    attempt = PaymentAttempt.objects.get()
    assert attempt.state == AttemptState.UNKNOWN  # not "failed": its real state is unknown
    page = client.get(answer["Location"]).content.decode()  # the query fails too: still 处理中
    assert "支付处理中" in page and "处理中" in page and "支付失败" not in page
    assert PaymentAttempt.objects.get().state == AttemptState.UNKNOWN
    sims.control("wxpay", api="ok")
    page = client.get(f"/fees/orders/{order_id}").content.decode()  # the visit queries: no such order → not paid
    assert PaymentAttempt.objects.get().state == AttemptState.FAILED and "处理中" not in page
    assert PaymentOrder.objects.get().state == "open"
    back = cashier(start_payment(client, order_id), "pay")  # paying again works, once
    assert client.get(back.split("?")[0].replace(sims.url, ""))["Location"].endswith("/receipt")
    assert TaxReceipt.objects.count() == 1


def test_order_timeout_then_paid_at_the_channel_is_resolved_paid_by_reconcile(client, sims, clock, demo_people, settings, capsys):
    """The order request times out but the channel took it (and the person paid): UNKNOWN, then
    the reconcile command's query credits it."""
    order_id = _declared(client, sims, clock, "2026-07")
    settings.PAYMENT = {"WECHATPAY": {**settings.PAYMENT["WECHATPAY"], "TIMEOUT_SECONDS": "0.3"}}
    sims.control("wxpay", api="slow", delay_seconds=1.5)
    answer = client.post(f"/fees/orders/{order_id}", {"action": "pay"})
    sims.control("wxpay", api="ok")
    assert answer["Location"] == f"/fees/orders/{order_id}"
    attempt = PaymentAttempt.objects.get()
    assert attempt.state == AttemptState.UNKNOWN and attempt.failure_reason == ""  # nothing technical on the page
    assert StateTransition.objects.filter(object_ref=attempt.public_id, to_state="unknown", reason__contains="TIMEOUT").exists()
    prepay_id = _sim_prepay_id(sims, attempt.out_trade_no)
    assert prepay_id is not None  # the slow request did reach the channel
    cashier(f"{sims.url}/sim/wxpay/cashier?prepay_id={prepay_id}&return_url={sims.url}/fees/orders/{order_id}/return", "pay")
    clock.advance(days=1)
    call_command("reconcile", "--date", FEE_NOW.date().isoformat())
    out = capsys.readouterr().out
    assert "处理中的支付已查询：已支付 1 笔" in out and "对账平衡" in out
    assert PaymentAttempt.objects.get().state == AttemptState.PAID and PaymentOrder.objects.get().state == "paid"
    assert TaxReceipt.objects.count() == 1


def test_query_5xx_on_return_is_processing_not_unpaid_then_resolved_paid(client, sims, clock, demo_people):
    order_id = _declared(client, sims, clock, "2026-08")
    back = cashier(start_payment(client, order_id), "pay")  # paid; no notification
    sims.control("wxpay", api="system_error")
    returned = client.get(back.split("?")[0].replace(sims.url, ""))
    assert returned["Location"] == f"/fees/orders/{order_id}"
    page = client.get(returned["Location"]).content.decode()
    assert "支付处理中" in page and "您尚未完成支付" not in page
    assert PaymentAttempt.objects.get().state == AttemptState.UNKNOWN
    refused = client.post(f"/fees/orders/{order_id}", {"action": "pay"})  # no second charge while unknown
    assert PaymentAttempt.objects.count() == 1 and refused["Location"] == f"/fees/orders/{order_id}"
    sims.control("wxpay", api="ok")
    client.get(f"/fees/orders/{order_id}")  # the bill page asks again
    assert PaymentAttempt.objects.get().state == AttemptState.PAID and PaymentOrder.objects.get().state == "paid"
