"""Issue 8 "items come in a different order on the form, the bill and the receipt;
the payment list shows no months when items cover different periods"."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from shebao.accounts.models import Account
from shebao.adapters.core import embedded_fees, get_core
from shebao.adapters.core.port import DeclarationInfo
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from shebao.fees import services
from shebao.fees.models import PaymentOrder
from tests.fees.helpers import FEE_NOW, declare, logged_in, order_id_from

pytestmark = pytest.mark.django_db(transaction=True)
ZHANG = DEMO_PEOPLE[0]
PENSION, MEDICAL = "企业职工基本养老保险", "职工基本医疗保险"


def _in_order(page: str, first: str, second: str, start: str = "") -> bool:
    at = page.index(start) if start else 0
    return 0 <= page.index(first, at) < page.index(second, at)


def test_items_in_one_order_on_quote_bill_receipt_and_pdf(client, sims, clock, demo_people, monkeypatch):
    # numbers issued in falling order: the medical declaration gets the smaller number, so
    # ordering by declaration number (the core's order) would put it first
    falling = itertools.count(10**10, -1)
    monkeypatch.setattr(embedded_fees, "_number", lambda prefix, now: f"{prefix}{now:%Y%m%d}{next(falling):011d}")
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    types = ["10212-FLEX", "10210-FLEX"]  # ticked medical first
    quote = declare(client, sims, types=types, year=2026, period_from="2026-01", period_to="2026-02", base="4371.00", confirm=False)
    assert _in_order(quote.content.decode(), PENSION + " · ", MEDICAL + " · ", start="应缴金额")
    order_id = order_id_from(declare(client, sims, types=types, year=2026, period_from="2026-01", period_to="2026-02", base="4371.00"))
    assert _in_order(client.get(f"/fees/orders/{order_id}").content.decode(), PENSION, MEDICAL, start="确认缴费")
    order = PaymentOrder.objects.get(public_id=order_id)
    assert order.description == f"社保费：{PENSION}、{MEDICAL} 2026年1月至2月"
    info = get_core().payment_record(registration_no=order.registration_no, declaration_nos=list(order.declaration_nos),
                                     channel="test", transaction_id="T-order", amount=order.amount, paid_at=FEE_NOW)
    assert info.declarations[0].insurance_type == MEDICAL  # the core's own order differs
    PaymentOrder.objects.filter(pk=order.pk).update(state="paid", receipt_no=info.receipt_no)
    assert _in_order(client.get(f"/fees/orders/{order_id}/receipt").content.decode(), PENSION, MEDICAL, start="缴费明细")
    from shebao.fees import selectors

    view = selectors.receipt_view(account=order.account, order=PaymentOrder.objects.get(pk=order.pk), now=FEE_NOW,
                                  channel_label="微信支付")
    assert [line.insurance_type for line in view.lines] == [PENSION, MEDICAL]  # the PDF draws these lines


def _info(no: str, code: str, name: str, start: str, end: str, amount: str) -> DeclarationInfo:
    return DeclarationInfo(declaration_no=no, insurance_type_code=code, insurance_type=name, contribution_year=2026, period_from=start,
                           period_to=end, base_amount=None, rate=None, amount=Decimal(amount), mode="assessed", state="declared",
                           receipt_no=None)


def test_payment_list_shows_the_span_when_items_cover_different_months(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    account = next(a for a in Account.objects.filter(person_type__gt="") if a.mobile == ZHANG[4])
    services._order_create(account=account, registration_no="R1", now=FEE_NOW, declarations=[
        _info("2", "10212-FLEX", MEDICAL, "202604", "202606", "300.00"),
        _info("1", "10210-FLEX", PENSION, "202601", "202603", "900.00"),
    ])
    page = client.get("/fees/payments").content.decode()
    assert f"社保费：{PENSION}、{MEDICAL} 2026年1月至6月" in page
