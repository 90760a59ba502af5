"""Issue 8 "the declare page does not show which months are already paid, defaults
to a paid month, and refuses only after the SMS step without naming the month"."""

from __future__ import annotations

import re

import pytest

from shebao.adapters.core import get_core
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from shebao.core.models import Declaration
from shebao.fees.models import PaymentOrder
from tests.fees.helpers import FEE_NOW, declare, logged_in, order_id_from

pytestmark = pytest.mark.django_db(transaction=True)
ZHANG = DEMO_PEOPLE[0]
PENSION = "10210-FLEX"


def _pay_at_core(order_id: str) -> None:
    """Record the bill paid at the core (what a credited payment does), without the channel."""
    order = PaymentOrder.objects.get(public_id=order_id)
    get_core().payment_record(registration_no=order.registration_no, declaration_nos=list(order.declaration_nos), channel="test",
                              transaction_id=f"T{order_id}", amount=order.amount, paid_at=FEE_NOW)


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.search(r'<option value="([^"]*)"[^>]*selected', select).group(1)


def _item(page: str, code: str) -> str:
    return re.search(rf'data-type="{code}">(.*?)</div></div>', page, re.S).group(1)


def test_declare_page_shows_paid_declared_and_open_months_and_defaults_to_first_payable(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    _pay_at_core(order_id_from(declare(client, sims, types=[PENSION], year=2026, period_from="2026-01", period_to="2026-02",
                                       base="4371.00", idem="m1")))
    order_id_from(declare(client, sims, types=[PENSION], year=2026, period_from="2026-03", period_to="2026-03", base="4371.00", idem="m2"))
    page = client.get("/fees/declare").content.decode()
    assert "2026年度缴费情况" in page
    pension = _item(page, PENSION)
    assert "企业职工基本养老保险" in pension and re.search(r"已缴费</span> 1月至2月", pension), pension
    assert re.search(r"待缴费</span> 3月", pension), pension
    assert re.search(r"可缴纳</span> 4月至", pension), pension
    medical = _item(page, "10212-FLEX")
    assert "已缴费" not in medical and re.search(r"可缴纳</span> 1月至", medical), medical
    # the default is the first month every monthly item can still pay, through the current month (2026-11)
    assert (_selected(page, "period_from"), _selected(page, "period_to")) == ("2026-04", "2026-11")


def test_paid_month_is_refused_before_the_sms_code_with_the_month_named(client, sims, clock, demo_people):
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    _pay_at_core(order_id_from(declare(client, sims, types=[PENSION], year=2026, period_from="2026-02", period_to="2026-02",
                                       base="4371.00", idem="p1")))
    clock.advance(seconds=3600)  # the step-up has expired: a new declaration would ask for a code
    sent = len(sims.messages())
    data = {"insurance_types": [PENSION, "10212-FLEX"], "contribution_year": "2026", "period_from": "2026-01", "period_to": "2026-03",
            "base": "4371.00", "grade": "", "idem": "p2"}
    page = client.post("/fees/declare", {**data, "action": "quote"}).content.decode()
    assert "2026年2月已缴费，请勿重复缴纳" in page
    assert 'name="sms_code"' not in page and "确认申报并去缴费" not in page  # no SMS step offered
    confirm = client.post("/fees/declare", {**data, "action": "confirm"})
    assert confirm.status_code == 400
    body = confirm.content.decode()
    assert "2026年2月已缴费" in body and "请先获取并输入短信验证码" not in body
    asked = client.post("/fees/declare", {**data, "action": "send_code"})  # 获取验证码 pressed anyway
    assert asked.status_code == 400 and "2026年2月已缴费" in asked.content.decode()
    assert len(sims.messages()) == sent  # no code was sent
    assert Declaration.objects.filter(mode="self").count() == 1 and PaymentOrder.objects.count() == 1


def test_step_up_code_on_the_declare_page_is_limited_per_session_with_429(client, sims, clock, demo_people, settings):
    """The declare page's 获取验证码 answers like the other code pages: 429 with Retry-After, nothing sent."""
    settings.SMS_SEND_RATE_PER_SESSION = "2/hour"  # the login code spends one
    logged_in(client, sims, clock, demo_id(ZHANG), DEMO_PASSWORD)
    clock.advance(seconds=3600)
    data = {"insurance_types": [PENSION], "contribution_year": "2026", "period_from": "2026-04", "period_to": "2026-04",
            "base": "4371.00", "grade": "", "idem": "lim"}
    first = client.post("/fees/declare", {**data, "action": "send_code"})
    sent = len(sims.messages())
    second = client.post("/fees/declare", {**data, "action": "send_code"})
    assert first.status_code == 200 and "验证码正在发送" in first.content.decode()
    assert second.status_code == 429 and int(second["Retry-After"]) > 0
    assert "获取验证码过于频繁" in second.content.decode() and "验证码正在发送" not in second.content.decode()
    assert len(sims.messages()) == sent
