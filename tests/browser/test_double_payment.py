"""A bill paid twice on a phone, and the second payment going back the way it came (issue 10,
"Money paid twice through the channel"): 覃丽华 opens the cashier, comes back without paying,
taps 重新支付 and pays; meanwhile the first cashier, whose close did not take at the channel
(the simulator's ``close=lost``), is paid too. The bill shows 缴费成功 with one receipt, and the
worker (run by the browser suite's server, as ``make run`` runs it) refunds the second payment
through WeChat Pay's refund API: the bill then says 已原路退回 and to which account.
(覃丽华, one of the refund cases, logged in by test_refunds: her 2026-01 is paid here; 张伟's
periods are test_payment's.)"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.flows import (
    CASHIER_TITLE,
    PAY_BUTTON,
    WECHAT_PERSONA,
    confirm_declaration,
    expect_elderly,
    fill_declaration,
    kv,
    pay,
    quote,
    toggle_elderly,
)
from tests.browser.test_payment import PENSION, _demo, _expect_receipt_head
from tests.browser.test_refunds import _phone

pytestmark = pytest.mark.browser
REFUND_DEADLINE = 60.0  # seconds: the worker's round, the channel's answer, its follow-up


def _switch(server, **switches) -> None:
    response = httpx.post(f"{server.url}/sim/wxpay/_control", json=switches, timeout=5)
    assert response.status_code == 200, response.text


@pytest.mark.journey_phase("step_up")
def test_a_bill_paid_twice_shows_the_second_payment_refunded(kept_phones, outbox, request, server):
    person = _demo("覃丽华")
    phone = _phone(kept_phones, outbox, request, "覃丽华")
    page = phone.page
    phone.goto("/fees/declare")
    fill_declaration(phone, types=[PENSION], year=2026, period_from="2026-01", period_to="2026-01", base="4371.00")
    quote(phone)
    order_path = confirm_declaration(phone, outbox, person[4])

    page.get_by_role("button", name=PAY_BUTTON).click()  # the first cashier, left open
    page.wait_for_url(re.compile(r"/sim/(wechat|wxpay)/"))
    if phone.path().startswith("/sim/wechat/"):
        page.get_by_role("button", name=f"以“{WECHAT_PERSONA}”身份授权").click()
        page.wait_for_url(re.compile(r"/sim/wxpay/cashier"))
    expect(page).to_have_title(CASHIER_TITLE)
    first_cashier = page.url
    phone.goto(order_path)
    _switch(server, close="lost")
    try:
        pay(phone, "确认支付", shot_prefix="second")
        order_id = _expect_receipt_head(phone)
        page.goto(first_cashier)  # the first payment goes through too
        page.get_by_role("button", name="确认支付", exact=True).click()
        page.wait_for_url(lambda url: "/sim/" not in url)
    finally:
        _switch(server, close="ok")
    assert order_path == f"/fees/orders/{order_id}"

    deadline = time.monotonic() + REFUND_DEADLINE
    while True:
        phone.goto(order_path)
        if page.get_by_text("已原路退回").count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(page.get_by_role("heading", name="缴费成功")).to_be_visible()
    refund = page.get_by_role("region", name="退款（原路退回）")
    expect(refund).to_be_visible()
    expect(refund.locator("dt").first).to_have_text("另一笔支付 874.20元")
    expect(kv(refund, "另一笔支付 874.20元")).to_have_text("已原路退回")
    expect(kv(refund, "退回至")).not_to_be_empty()
    expect(kv(refund, "退款时间")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"))
    expect(page.get_by_role("link", name="查看缴费回单")).to_be_visible()
    phone.shot("order-refunded", manual="double-payment")
    toggle_elderly(phone, on=True)
    expect_elderly(phone, True)
    expect(refund).to_contain_text("已原路退回")
    phone.shot("order-refunded-elderly")
    toggle_elderly(phone, on=False)
    assert not phone.findings, "\n".join(phone.findings)
