"""The customer's rules as a person meets them on the declare page (REQUIREMENTS §2.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from shebao.core.models import Declaration
from shebao.fees.models import PaymentOrder
from tests.accounts.helpers import login
from tests.fees.helpers import declare, logged_in, order_id_from, step_up

pytestmark = pytest.mark.django_db
ZHANG_ID, HUANG_ID = "450103198506011239", "450403196601201353"


def _at(clock, client, sims, when: dt.datetime, identifier: str):
    clock.now = when
    assert login(client, sims, identifier, "Demo@2026").status_code == 302
    clock.advance(seconds=61)


def _quote(client, sims, **kw):
    return declare(client, sims, types=["10210-FLEX"], confirm=False, **kw).content.decode()


def test_nanning_january_2021_only_year_2020_at_its_minimum(client, sims, clock, demo_people):
    _at(clock, client, sims, dt.datetime(2021, 1, 15, 2, 0, tzinfo=dt.UTC), ZHANG_ID)
    page = client.get("/fees/declare").content.decode()
    assert "2020年度" in page and "2021年度" not in page
    page = _quote(client, sims, year=2020, period_from="2020-11", period_to="2020-12", base="2955.00")
    assert "2955.10" in page  # below the 2020 minimum: the rule's own explanation
    page = _quote(client, sims, year=2020, period_from="2020-11", period_to="2020-12", base="2955.10")
    assert "591.02元" in page and "1182.04" in page


def test_nanning_february_2021_only_up_to_the_current_month(client, sims, clock, demo_people):
    _at(clock, client, sims, dt.datetime(2021, 2, 10, 2, 0, tzinfo=dt.UTC), ZHANG_ID)
    page = _quote(client, sims, year=2021, period_from="2021-01", period_to="2021-02", base="3153.90")
    assert "630.78元" in page and "1261.56" in page and "确认申报并去缴费" in page
    page = _quote(client, sims, year=2021, period_from="2021-01", period_to="2021-03", base="3153.90")
    assert "只能缴纳至当月" in page or "当月" in page
    assert "确认申报并去缴费" not in page
    page = _quote(client, sims, year=2021, period_from="2021-01", period_to="2021-02", base="3000.00")
    assert "3153.90" in page and "确认申报并去缴费" not in page


def test_nanning_after_august_2021_later_months_can_be_paid(client, sims, clock, demo_people):
    _at(clock, client, sims, dt.datetime(2021, 8, 20, 2, 0, tzinfo=dt.UTC), ZHANG_ID)
    page = _quote(client, sims, year=2021, period_from="2021-09", period_to="2021-12", base="3153.90")
    assert "2523.12" in page and "确认申报并去缴费" in page


def test_assessed_person_cannot_self_declare_but_pays_the_pushed_amount(client, sims, clock, demo_people):
    logged_in(client, sims, clock, HUANG_ID, "Demo@2026")
    page = _quote(client, sims, year=2026, period_from="2026-07", period_to="2026-07", base="4371.00")
    assert "社保" in page and "核定" in page and "确认申报并去缴费" not in page
    hub = client.get("/fees/").content.decode()
    assert "社保核定应缴" in hub and "5245.20元" in hub
    assessed = Declaration.objects.get(mode="assessed")
    step_up(client, sims)
    order_id = order_id_from(client.post("/fees/assessed", {"declaration": [assessed.declaration_no]}))
    assert PaymentOrder.objects.get(public_id=order_id).amount == assessed.amount
    assert client.post("/fees/assessed", {"declaration": ["NOPE"]}).status_code == 302
    assert PaymentOrder.objects.count() == 1
