"""Declare and pay through the pages, as both person types: success, failure,
abandon-then-retry; the receipt; notifications credited exactly once."""

from __future__ import annotations

import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from shebao.archive.models import ArchiveRecord
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from shebao.core.models import Declaration, TaxReceipt
from shebao.fees.models import AttemptState, NotificationOutcome, PaymentAttempt, PaymentNotification, PaymentOrder
from tests.fees.helpers import cashier, declare, identify_wechat, logged_in, order_id_from, pay_after_identify, start_payment

pytestmark = pytest.mark.django_db(transaction=True)
ZHANG, LI = DEMO_PEOPLE[0], DEMO_PEOPLE[1]


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _back(client, url: str):
    parts = urlsplit(url)
    return client.get(parts.path, {k: v for k, v in (p.split("=", 1) for p in parts.query.split("&") if "=" in p)})


def test_quote_shows_exact_amounts(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    page = declare(client, sims, types=["10210-FLEX", "10212-FLEX"], year=2026, period_from="2026-01", period_to="2026-03",
                   base="4371.00", confirm=False).content.decode()
    assert "874.20元" in page and "2622.60元" in page  # 4371.00 × 20% per month, three months
    assert "349.68元" in page and "1049.04元" in page  # 4371.00 × 8%
    assert "3671.64" in page
    assert Declaration.objects.filter(mode="self").count() == 0  # a quote writes nothing


def test_flexible_worker_pays_and_gets_receipt(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX", "10212-FLEX"], year=2026, period_from="2026-01",
                                     period_to="2026-03", base="4371.00"))
    order = PaymentOrder.objects.get(public_id=order_id)
    assert order.amount == Decimal("3671.64") and order.state == "open"
    identify_wechat(client, order_id)
    back = cashier(start_payment(client, order_id), "pay")
    response = _back(client, back)
    assert response.status_code == 302 and response["Location"] == f"/fees/orders/{order_id}/receipt"
    page = client.get(response["Location"]).content.decode()
    for text in ("缴费成功", "张伟", "4501**********1239", "南宁市社会保险事业局", "国家税务总局南宁市青秀区税务局", "企业职工基本养老保险",
                 "2026-01 至 2026-03", "2622.60元", "1049.04元", "3671.64元", "微信支付", "已缴费", "已上解未入库", "预计"):
        assert text in page, text
    assert demo_id(ZHANG) not in page
    assert _wait_for(lambda: PaymentNotification.objects.filter(out_trade_no__startswith="SB").exists())
    assert TaxReceipt.objects.count() == 1
    # query-on-return and the notification race: whichever comes second is a duplicate
    assert PaymentNotification.objects.get().outcome in (NotificationOutcome.DUPLICATE, NotificationOutcome.CREDITED)
    assert ArchiveRecord.objects.filter(business_type="payment").count() == 1
    assert set(Declaration.objects.filter(mode="self").values_list("state", flat=True)) == {"paid"}


def test_resident_pays_grade_and_medical(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(LI), DEMO_PASSWORD)
    sims.control("wxpay", notify="none")
    order_id = order_id_from(declare(client, sims, types=["10210-RES", "10212-RES"], year=2027, grade="500.00"))
    assert PaymentOrder.objects.get(public_id=order_id).amount == Decimal("920.00")  # grade 500 + medical 420 (demo 2027)
    identify_wechat(client, order_id)
    response = _back(client, cashier(start_payment(client, order_id), "pay"))
    page = client.get(response["Location"]).content.decode()
    assert "城乡居民基本养老保险" in page and "城乡居民基本医疗保险" in page and "920.00元" in page
    assert "2027-01 至 2027-12" in page


def test_failure_then_retry_pays_once(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-04", period_to="2026-04", base="4371.00"))
    identify_wechat(client, order_id)
    failed = _back(client, cashier(start_payment(client, order_id), "fail"))
    assert failed["Location"] == f"/fees/orders/{order_id}"
    page = client.get(failed["Location"]).content.decode()
    assert "支付失败：银行卡余额不足。您可以重新支付。" in page and "支付失败：支付失败" not in page
    assert PaymentAttempt.objects.get().state == AttemptState.FAILED
    paid = _back(client, cashier(start_payment(client, order_id), "pay"))
    assert paid["Location"].endswith("/receipt")
    states = sorted(PaymentAttempt.objects.values_list("state", flat=True))
    assert states == ["closed", "paid"]
    assert TaxReceipt.objects.count() == 1


def test_abandon_then_retry(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-05", period_to="2026-05", base="4371.00"))
    identify_wechat(client, order_id)
    abandoned = _back(client, cashier(start_payment(client, order_id), "cancel"))
    assert "您尚未完成支付" in client.get(abandoned["Location"]).content.decode()
    assert PaymentOrder.objects.get(public_id=order_id).state == "open"
    paid = _back(client, cashier(start_payment(client, order_id), "pay"))
    assert paid["Location"].endswith("/receipt")
    assert PaymentAttempt.objects.filter(state="paid").count() == 1 and TaxReceipt.objects.count() == 1


def test_one_tap_on_pay_identifies_then_goes_straight_to_the_cashier(client, sims, clock, demo_people):
    """Issue 8 "paying needs two taps on 去支付": after the WeChat identification the bill
    goes on to the payment by itself, once; a later visit to the bill just shows it."""
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    order_id = order_id_from(declare(client, sims, types=["10212-FLEX"], year=2026, period_from="2026-06", period_to="2026-06",
                                     base="4371.00", idem="one-tap"))
    identify_wechat(client, order_id)  # the one tap on 去支付, then WeChat's (silent) authorise page
    back = cashier(pay_after_identify(client, order_id), "pay")
    assert PaymentAttempt.objects.count() == 1
    assert _back(client, back)["Location"] == f"/fees/orders/{order_id}/receipt"
    assert client.get(f"/fees/orders/{order_id}").status_code == 200  # the mark was used up: no second start
    assert PaymentAttempt.objects.count() == 1


def test_bill_page_starts_no_payment_without_a_fresh_identification(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    order_id = order_id_from(declare(client, sims, types=["10212-FLEX"], year=2026, period_from="2026-05", period_to="2026-05",
                                     base="4371.00", idem="no-tap"))
    assert client.get(f"/fees/orders/{order_id}").status_code == 200  # a link to the bill pays nothing
    identify_wechat(client, order_id)
    clock.advance(seconds=301)  # came back too late (e.g. the phone slept): show the bill, tap again
    assert client.get(f"/fees/orders/{order_id}").status_code == 200
    assert PaymentAttempt.objects.count() == 0


def test_double_tapped_confirm_makes_one_order(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    first = declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-06", period_to="2026-06", base="4371.00", idem="tap")
    data = {"insurance_types": ["10210-FLEX"], "contribution_year": "2026", "period_from": "2026-06", "period_to": "2026-06",
            "base": "4371.00", "grade": "", "idem": "tap", "action": "confirm"}
    second = client.post("/fees/declare", data)  # step-up still fresh: no code needed
    assert order_id_from(first) == order_id_from(second)
    assert PaymentOrder.objects.count() == 1 and Declaration.objects.filter(mode="self").count() == 1


def test_same_period_cannot_be_declared_twice(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-07", period_to="2026-07", base="4371.00", idem="a")
    again = client.post("/fees/declare", {"insurance_types": ["10210-FLEX"], "contribution_year": "2026", "period_from": "2026-07",
                                          "period_to": "2026-07", "base": "4371.00", "grade": "", "idem": "b", "action": "confirm"})
    assert again.status_code == 400
    assert "2026年7月已申报、尚未缴费" in again.content.decode()  # refused by the quote, the month named
    assert PaymentOrder.objects.count() == 1


def test_cancel_voids_declarations_so_periods_can_be_declared_again(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-08", period_to="2026-08",
                                     base="4371.00", idem="c1"))
    client.post(f"/fees/orders/{order_id}", {"action": "cancel"})
    assert PaymentOrder.objects.get(public_id=order_id).state == "cancelled"
    assert Declaration.objects.get(mode="self").state == "voided"
    again = client.post("/fees/declare", {"insurance_types": ["10210-FLEX"], "contribution_year": "2026", "period_from": "2026-08",
                                          "period_to": "2026-08", "base": "4371.00", "grade": "", "idem": "c2", "action": "confirm"})
    assert again.status_code == 302


def test_confirm_needs_sms_step_up(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    clock.advance(seconds=301)  # past the login's SMS code, which counts as the step-up for 5 minutes
    data = {"insurance_types": ["10210-FLEX"], "contribution_year": "2026", "period_from": "2026-09", "period_to": "2026-09",
            "base": "4371.00", "grade": "", "idem": "s", "action": "confirm"}
    response = client.post("/fees/declare", data)
    assert response.status_code == 400 and "请先获取并输入短信验证码" in response.content.decode()
    assert PaymentOrder.objects.count() == 0


def test_another_persons_order_and_receipt_are_not_found(client, sims, clock, demo_people):
    from django.test import Client

    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    sims.control("wxpay", notify="none")
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-10", period_to="2026-10", base="4371.00"))
    identify_wechat(client, order_id)
    _back(client, cashier(start_payment(client, order_id), "pay"))
    other = logged_in(Client(), sims, clock, demo_id(LI), DEMO_PASSWORD)
    for url in (f"/fees/orders/{order_id}", f"/fees/orders/{order_id}/receipt", f"/fees/orders/{order_id}/receipt.pdf",
                f"/fees/orders/{order_id}/return"):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/fees/orders/{order_id}", {"action": "cancel"}).status_code == 404
    assert PaymentOrder.objects.get(public_id=order_id).state == "paid"


def test_wechatpay_gets_the_payers_address_not_the_proxys(client, sims, clock, demo_people, settings):
    """Behind one trusted proxy, scene_info.payer_client_ip is the address the proxy saw, not REMOTE_ADDR."""
    import json
    import sqlite3
    from contextlib import closing

    settings.TRUSTED_PROXY_COUNT = 1
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-11", period_to="2026-11",
                                     base="4371.00", idem="ip"))
    identify_wechat(client, order_id)
    started = client.post(f"/fees/orders/{order_id}", {"action": "pay"}, HTTP_X_FORWARDED_FOR="198.51.100.23", REMOTE_ADDR="10.0.0.5")
    assert started.status_code == 302 and "/sim/wxpay/cashier" in started["Location"]
    with closing(sqlite3.connect(sims.state_dir / "wxpay.sqlite3")) as db:
        (request,) = db.execute("SELECT request FROM orders").fetchone()
    assert json.loads(request)["scene_info"]["payer_client_ip"] == "198.51.100.23"
