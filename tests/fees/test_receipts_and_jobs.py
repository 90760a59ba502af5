"""Receipt timeline as the core says, PDF download, public verification, stale-payment sweep."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from shebao.core.models import TaxReceipt
from shebao.fees.models import PaymentAttempt, PaymentOrder
from tests.fees.helpers import cashier, declare, identify_wechat, logged_in, order_id_from, start_payment

pytestmark = pytest.mark.django_db(transaction=True)
ZHANG_ID = "450103198506011239"


@pytest.fixture
def paid_order(client, sims, clock, demo_people):
    logged_in(client, sims, clock, ZHANG_ID, "Demo@2026")
    sims.control("wxpay", notify="none")
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-03", period_to="2026-03", base="4371.00"))
    identify_wechat(client, order_id)
    back = cashier(start_payment(client, order_id), "pay")
    assert client.get(back.split("?")[0].replace(sims.url, "")).status_code == 302
    return order_id


def test_state_moves_remitted_then_in_treasury_as_the_core_says(client, clock, paid_order):
    page = client.get(f"/fees/orders/{paid_order}/receipt").content.decode()
    assert "<strong>已缴费</strong>" in page and "预计" in page
    clock.advance(hours=24)  # past the next 10:00 after payment + 2 h
    page = client.get(f"/fees/orders/{paid_order}/receipt").content.decode()
    assert "<strong>已上解未入库</strong>" in page
    clock.advance(days=2)
    call_command("core_advance_receipts")
    assert TaxReceipt.objects.get().state == "in_treasury"
    assert "<strong>已入库</strong>" in client.get(f"/fees/orders/{paid_order}/receipt").content.decode()


def test_pdf_download(client, paid_order):
    response = client.get(f"/fees/orders/{paid_order}/receipt.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "attachment" in response["Content-Disposition"]


def test_public_verification_shows_no_personal_data(client, paid_order):
    from django.test import Client

    page = client.get(f"/fees/orders/{paid_order}/receipt").content.decode()
    receipt = TaxReceipt.objects.get()
    anonymous = Client().get(f"/verify/{receipt.verify_code}")
    body = anonymous.content.decode()
    assert anonymous.status_code == 200 and "回单真实有效" in body and "874.20" in body and receipt.receipt_no in body
    assert "张伟" not in body and ZHANG_ID[-4:] not in body
    assert receipt.receipt_no in page
    assert Client().get("/verify/NOTACODE123").status_code == 404


def test_stale_attempt_is_closed_and_a_late_success_is_credited(client, sims, clock, demo_people):
    logged_in(client, sims, clock, ZHANG_ID, "Demo@2026")
    sims.control("wxpay", notify="none")
    abandoned = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-11", period_to="2026-11",
                                      base="4371.00", idem="st1"))
    identify_wechat(client, abandoned)
    start_payment(client, abandoned)  # the person never pays
    paid_no_return = order_id_from(declare(client, sims, types=["10212-FLEX"], year=2026, period_from="2026-11", period_to="2026-11",
                                           base="4371.00", idem="st2"))
    cashier(start_payment(client, paid_no_return), "pay")  # paid, but never came back and no notification
    clock.advance(minutes=31)
    call_command("close_stale_payments")
    assert PaymentOrder.objects.get(public_id=abandoned).state == "open"
    assert PaymentAttempt.objects.get(order__public_id=abandoned).state == "closed"
    assert PaymentOrder.objects.get(public_id=paid_no_return).state == "paid"
    assert TaxReceipt.objects.count() == 1


def test_receipt_lists_every_required_field(client, paid_order):
    page = client.get(f"/fees/orders/{paid_order}/receipt").content.decode()
    for label in ("缴费人", "证件号码", "社保经办机构", "人员编号", "服务机构", "缴费明细", "合计", "缴费时间", "缴费渠道", "银行流水号",
                  "当前状态", "查询时间"):
        assert label in page, label
    assert re.search(r"银行流水号</dt><dd>\w+</dd>", page)


def test_public_verification_get_writes_nothing_yet_shows_the_due_state(client, clock, paid_order):
    """A public GET never writes: the treasury step that is due is shown, not saved (no UPDATE, no
    state-history INSERT); the payer's own receipt page and the job are what advance the row."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from shebao.common.states import StateTransition

    clock.advance(hours=24)  # past the next 10:00 after payment + 2 h: 已上解 is due
    receipt = TaxReceipt.objects.get()
    history = StateTransition.objects.count()
    with CaptureQueriesContext(connection) as queries:
        anonymous = Client().get(f"/verify/{receipt.verify_code}")
    assert anonymous.status_code == 200 and "已上解未入库" in anonymous.content.decode()
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    fresh = TaxReceipt.objects.get()
    assert (fresh.state, fresh.remitted_at) == ("paid", None) and StateTransition.objects.count() == history
