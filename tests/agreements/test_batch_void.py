"""待批扣清册作废 and 待批扣清册查询 (REQUIREMENTS §2.6, §3): the person voids their own
pending item (and may go on to pay at once); someone else's item, or one already deducted,
is refused with nothing changed; voiding and the deduction racing on one item leave exactly
one outcome (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from shebao.adapters.core import get_core
from shebao.agreements import batch_exec, batch_services
from shebao.agreements.batch_models import BatchDeductionItem, BatchItemState
from shebao.agreements.batch_services import BatchError
from shebao.audit.models import AuditEvent
from tests import actors
from tests.agreements.batch_fakes import FakeDeductBank
from tests.agreements.batch_helpers import launched, on_batch
from tests.agreements.helpers import LI, ZHANG
from tests.concurrency import run_together
from tests.refunds.helpers import account_named

pytestmark = pytest.mark.django_db


def _client(name: str = LI) -> Client:
    client = Client()
    client.force_login(account_named(name))
    return client


def test_the_person_sees_the_pending_item_with_date_and_amount_and_voids_it(demo_people, clock, sims):
    _, profile, grade = on_batch(clock.now)
    launched(clock.now, profile)
    client = _client()
    page = client.get("/agreements/batch").content.decode()
    item = BatchDeductionItem.objects.get()
    assert "2026年3月6日" in page and f"{grade}元" in page and "作废并立即缴费" in page

    response = client.post("/agreements/batch", {"item": item.public_id, "then": ""})

    item.refresh_from_db()
    assert (response.status_code, response["Location"]) == (302, "/agreements/batch")
    assert (item.state, item.finished_at) == (BatchItemState.VOIDED, clock.now)
    assert AuditEvent.objects.filter(action="batch.item.void", subject_ref=item.public_id).count() == 1
    assert "暂无待批扣记录" in client.get("/agreements/batch").content.decode()
    assert "已作废" in client.get("/agreements/batch/query").content.decode()


def test_void_and_pay_now_goes_to_the_declaration(demo_people, clock, sims):
    _, profile, _ = on_batch(clock.now)
    launched(clock.now, profile)

    response = _client().post("/agreements/batch", {"item": BatchDeductionItem.objects.get().public_id, "then": "pay"})

    assert (response.status_code, response["Location"]) == (302, "/fees/declare")
    assert BatchDeductionItem.objects.get().state == BatchItemState.VOIDED


def test_someone_elses_item_is_not_found_and_nothing_changes(demo_people, clock, sims):
    _, profile, _ = on_batch(clock.now)
    launched(clock.now, profile)
    item = BatchDeductionItem.objects.get()

    response = _client(ZHANG).post("/agreements/batch", {"item": item.public_id})

    assert response.status_code == 400 and "未找到该待批扣记录" in response.content.decode()
    assert BatchDeductionItem.objects.get().state == BatchItemState.PENDING
    assert not AuditEvent.objects.filter(action="batch.item.void").exists()


def test_an_item_already_deducted_cannot_be_voided(demo_people, clock, sims):
    account, profile, _ = on_batch(clock.now)
    task = batch_services.batch_task_start(task=launched(clock.now, profile), now=clock.now)
    batch_exec.batch_task_execute(task_id=task.pk, job_ref="j", now=lambda: clock.now)
    item = BatchDeductionItem.objects.get()

    with pytest.raises(BatchError) as refused:
        batch_services.batch_item_void(actor=actors.citizen(account), public_id=item.public_id, now=clock.now)

    assert str(refused.value) == "该记录扣款成功，不能作废"
    assert BatchDeductionItem.objects.get().state == BatchItemState.SUCCEEDED
    page = _client().get("/agreements/batch/query").content.decode()
    assert "扣款成功" in page and item.tax_receipt_no in page


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_no", [1, 2, 3])
def test_voiding_racing_the_deduction_leaves_exactly_one_outcome(demo_people, clock, sims, round_no):
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL and concurrent writers; the database here is {connection.vendor}")
    account, profile, _ = on_batch(clock.now)
    launched(clock.now, profile)
    item = BatchDeductionItem.objects.get()
    bank = FakeDeductBank()

    def work(n: int):
        if n == 0:
            return batch_services.batch_item_void(actor=actors.citizen(account), public_id=item.public_id, now=clock.now).state
        return batch_exec.batch_item_deduct(item_id=item.pk, gateway=bank, core=get_core(), now=lambda: clock.now)

    done, refused, errors = run_together(work, 2, expected=BatchError)

    assert errors == []
    item.refresh_from_db()
    if item.state == BatchItemState.VOIDED:  # the void won: the deduction skipped it, the bank was never asked
        assert (sorted(done), refused, bank.keys) == ([BatchItemState.VOIDED] * 2, [], [])
    else:  # the deduction won: the void was refused, the money taken once
        assert (item.state, done, bank.keys) == (BatchItemState.SUCCEEDED, [BatchItemState.SUCCEEDED], [item.idempotency_key])
        assert [str(e) for e in refused] in (["该记录扣款中，不能作废"], ["该记录扣款成功，不能作废"])
