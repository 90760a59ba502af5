"""Refund races on PostgreSQL (issue 10, money safety): concurrent clients never refund one
item twice, whatever door or key they come with."""

from __future__ import annotations

import pytest
from django.db import connection

from shebao.refunds import services
from shebao.refunds.models import RefundApplication, RefundItemBalance, RefundLedgerEntry
from shebao.refunds.services import RefundAccount, RefundError
from tests import actors
from tests.concurrency import run_together
from tests.refunds.helpers import MONTHLY, PENSION, card_number, demo_account, pay_months

CLIENTS = 20


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_refunds_of_one_item_give_exactly_one(demo_people, clock):
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL row locks and concurrent writers; the database here is {connection.vendor}")
    account = demo_account()
    reg = pay_months(account, [5], year=2026, now=clock.now)
    made, refused, errors = run_together(
        lambda n: services.refund_apply_normal(
            actor=actors.citizen(account, step_up_at=clock.now), registration_no=reg, insurance_type_code=PENSION, period="202605",
            to=RefundAccount("102", card_number(), account.name), idempotency_key=f"tap-{n}", now=clock.now).pk,
        CLIENTS, expected=RefundError)
    refused = [str(exc) for exc in refused]
    assert errors == []
    assert len(made) == 1 and len(refused) == CLIENTS - 1
    assert all("正在办理" in message or "可退金额" in message for message in refused), refused
    assert RefundApplication.objects.count() == 1
    assert RefundItemBalance.objects.get().committed == MONTHLY
    assert list(RefundLedgerEntry.objects.values_list("kind", "amount")) == [("reserve", MONTHLY)]
