"""The double-payment refund under crash and race: a worker killed (SIGKILL) after the channel
accepted the refund and before our commit is recovered by query, never by a second refund; and
workers running the refund job at once give one refund, one ledger, one archive record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from shebao.adapters.payment.wechatpay import WechatPayV3Channel
from shebao.archive.models import ArchiveRecord
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from shebao.fees import channel_refunds
from shebao.fees.models import AttemptState, PaymentAttempt, PaymentLedgerEntry, PaymentRefund, PaymentRefundState
from tests.concurrency import database_url, run_together, wait_for
from tests.fees.helpers import pay_twice
from tests.fees.test_channel_refunds import _sim_refunds

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]

# The refund job in a process of its own, killed by itself right after the channel accepted the
# refund: the PaymentRefund row is committed (PENDING), the channel's answer never is.
CHILD = """
import datetime as dt, json, os, signal, sys
import django
django.setup()
from django.conf import settings
config = json.loads(sys.argv[1])
settings.PAYMENT = config["payment"]
from shebao.common import clock
fixed = dt.datetime.fromisoformat(config["now"])
clock.now = lambda: fixed
from shebao.adapters.payment.wechatpay import WechatPayV3Channel
accepted = WechatPayV3Channel.refund
def refund_then_die(self, **kwargs):
    answer = accepted(self, **kwargs)
    print("accepted", answer.status, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
WechatPayV3Channel.refund = refund_then_die
from shebao.fees.channel_refunds import payment_refunds_run
payment_refunds_run(now=fixed)
print("survived", flush=True)
"""


def _duplicate(client, sims, clock) -> PaymentAttempt:
    order_id = pay_twice(client, sims, clock, demo_id(DEMO_PEOPLE[0]), DEMO_PASSWORD)
    return wait_for(lambda: PaymentAttempt.objects.filter(order__public_id=order_id, state=AttemptState.DUPLICATE).first(),
                    "the double payment")


def _count_refund_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    original = WechatPayV3Channel.refund

    def counted(self, **kwargs):
        calls.append(kwargs["out_refund_no"])
        return original(self, **kwargs)

    monkeypatch.setattr(WechatPayV3Channel, "refund", counted)
    return calls


def test_a_worker_killed_after_the_channel_accepted_is_recovered_by_query(client, sims, clock, demo_people, monkeypatch):
    duplicate = _duplicate(client, sims, clock)
    env = {**os.environ, "SHEBAO_ENV": "test", "DATABASE_URL": database_url()}
    config = json.dumps({"payment": settings.PAYMENT, "now": clock.now.isoformat()})
    child = subprocess.run([sys.executable, "-c", CHILD, config], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert child.returncode == -9, child.stderr[-2000:]
    assert child.stdout.split() == ["accepted", "PROCESSING"]  # killed before "survived"
    refund = PaymentRefund.objects.get(attempt=duplicate)
    assert refund.state == PaymentRefundState.PENDING and refund.refund_id == ""  # the channel's answer was never committed
    assert [r[0] for r in _sim_refunds(sims)] == [refund.out_refund_no]  # but the channel has the refund

    calls = _count_refund_calls(monkeypatch)
    counts = channel_refunds.payment_refunds_run(now=clock.now)  # the restarted worker

    assert calls == []  # recovered by query: the refund was not sent again
    assert counts == {"opened": 0, "settled": 1, "open": 0, "retry_later": 0}
    refund.refresh_from_db()
    assert refund.state == PaymentRefundState.SUCCEEDED and refund.refund_id
    assert _sim_refunds(sims) == [(refund.out_refund_no, duplicate.out_trade_no, 87420, "SUCCESS")]
    assert list(PaymentLedgerEntry.objects.filter(refund=refund).values_list("amount", flat=True)) == [Decimal("874.20"), Decimal("-874.20")]
    assert PaymentAttempt.objects.get(pk=duplicate.pk).state == AttemptState.REFUNDED


def test_a_row_committed_but_never_sent_is_sent_once(client, sims, clock, demo_people, monkeypatch):
    duplicate = _duplicate(client, sims, clock)
    refund = channel_refunds.payment_refund_open(attempt=duplicate, now=clock.now)  # then the worker died before asking
    assert _sim_refunds(sims) == []
    calls = _count_refund_calls(monkeypatch)
    assert channel_refunds.payment_refund_advance(refund=refund, now=clock.now) == PaymentRefundState.PROCESSING
    assert calls == [refund.out_refund_no]
    assert channel_refunds.payment_refund_advance(refund=refund, now=clock.now) == PaymentRefundState.SUCCEEDED
    assert calls == [refund.out_refund_no]


@pytest.mark.postgres_only
def test_workers_at_once_give_one_refund(client, sims, clock, demo_people):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks; SQLite serialises writers")
    duplicate = _duplicate(client, sims, clock)

    results, refused, errors = run_together(lambda i: channel_refunds.payment_refund_open(attempt=duplicate, now=clock.now).pk, 8)
    assert (errors, refused, len(set(results))) == ([], [], 1)
    _results, _refused, errors = run_together(lambda i: channel_refunds.payment_refunds_run(now=clock.now), 8)
    assert errors == []
    channel_refunds.payment_refunds_run(now=clock.now)

    refund = PaymentRefund.objects.get()
    assert refund.state == PaymentRefundState.SUCCEEDED
    assert len(_sim_refunds(sims)) == 1
    assert PaymentLedgerEntry.objects.filter(refund=refund).count() == 2
    assert ArchiveRecord.objects.filter(business_type="payment_refund").count() == 1
