"""批量扣款任务 and 待批扣清册 (REQUIREMENTS §2.6): launching a task (audited), building the
list from the usable agreements and the payable amounts in force, the database constraints
of the items, and the refusals with nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from shebao.agreements import batch_services
from shebao.agreements.batch_models import (
    BatchDeductionChunk,
    BatchDeductionItem,
    BatchDeductionTask,
    BatchItemState,
    BatchTaskState,
)
from shebao.agreements.batch_services import BatchError
from shebao.agreements.models import TwoPartyAgreement
from shebao.audit.models import AuditEvent
from shebao.common.states import StateTransition
from tests import actors
from tests.agreements.batch_helpers import DEDUCTION_ON, PENSION, launched, on_batch, operator

pytestmark = pytest.mark.django_db


def test_the_list_has_one_item_per_payer_with_an_agreement_and_an_amount(demo_people, clock, sims):
    account, profile, grade = on_batch(clock.now)

    task = launched(clock.now, profile)

    item = BatchDeductionItem.objects.get(task=task)
    agreement = TwoPartyAgreement.objects.get(registration_no=profile.registration_no)
    assert (task.state, task.item_count, task.chunk_count, task.total_amount, task.built_at) == (
        BatchTaskState.BUILT, 1, 1, grade, clock.now)
    assert (item.account, item.registration_no, item.insurance_type_code, item.contribution_year, item.agreement_kind,
            item.agreement_id, item.agreement_no, item.amount, item.state, item.chunk_no) == (
        account, profile.registration_no, PENSION, 2026, "two_party", agreement.pk, agreement.agreement_no, grade,
        BatchItemState.PENDING, 0)
    assert item.idempotency_key == f"BK{task.pk:08d}{0:012d}"
    assert list(StateTransition.objects.filter(model="agreements.batchdeductiontask").values_list("from_state", "to_state")) == [
        ("draft", "building"), ("building", "built")]
    assert AuditEvent.objects.filter(action="batch.task.create", subject_ref=task.public_id).count() == 1


def test_a_payer_without_a_usable_agreement_or_of_another_city_is_left_out(demo_people, clock, sims):
    _, profile, _ = on_batch(clock.now)
    TwoPartyAgreement.objects.filter(registration_no=profile.registration_no).update(state="cancelled")

    task = launched(clock.now, profile)

    assert (task.item_count, task.chunk_count, BatchDeductionItem.objects.count()) == (0, 0, 0)


def test_items_are_numbered_into_chunks(demo_people, clock, sims, settings):
    settings.BATCH_CHUNK_SIZE = 1
    _, profile, _ = on_batch(clock.now)
    task = launched(clock.now, profile)
    assert list(BatchDeductionChunk.objects.filter(task=task).values_list("chunk_no", "state")) == [(0, "pending")]


def test_a_payer_already_on_a_live_item_of_the_same_period_is_not_listed_again(demo_people, clock, sims):
    _, profile, _ = on_batch(clock.now)
    first = launched(clock.now, profile)
    BatchDeductionTask.objects.filter(pk=first.pk).update(state=BatchTaskState.DONE)  # let a second task be launched

    second = launched(clock.now, profile)

    assert (first.item_count, second.item_count) == (1, 0)


def test_building_again_changes_nothing(demo_people, clock, sims):
    _, profile, _ = on_batch(clock.now)
    task = launched(clock.now, profile)
    keys = list(BatchDeductionItem.objects.values_list("idempotency_key", flat=True))

    again = batch_services.batch_task_build(task_id=task.pk, now=clock.now)

    assert (again.state, list(BatchDeductionItem.objects.values_list("idempotency_key", flat=True))) == (BatchTaskState.BUILT, keys)


@pytest.mark.parametrize(("changes", "message"), [
    ({"city_code": "999999"}, "请选择地市和险种"),
    ({"insurance_type_code": "NOPE"}, "请选择地市和险种"),
    ({"deduction_on": dt.date(2026, 3, 2)}, "扣款日期应晚于今天，以便缴费人收到提醒并作废或充值"),
])
def test_a_task_with_bad_input_is_refused_and_nothing_is_stored(demo_people, clock, changes, message):
    fields = {"insurance_type_code": PENSION, "contribution_year": 2026, "city_code": "450300", "deduction_on": DEDUCTION_ON, **changes}
    with pytest.raises(BatchError) as refused:
        batch_services.batch_task_create(actor=actors.staff(operator()), now=clock.now, **fields)
    assert str(refused.value) == message
    assert (BatchDeductionTask.objects.count(), AuditEvent.objects.filter(action="batch.task.create").count()) == (0, 0)


def test_a_second_unfinished_task_for_the_same_city_type_and_year_is_refused(demo_people, clock, sims):
    _, profile, _ = on_batch(clock.now)
    launched(clock.now, profile)
    with pytest.raises(BatchError, match="已有未完成的批量扣款任务"):
        launched(clock.now, profile)
    assert BatchDeductionTask.objects.count() == 1


def _item(task, **changes) -> BatchDeductionItem:
    fields = {"public_id": "x1", "task": task, "chunk_no": 0, "account": operator(), "registration_no": "R1",
              "insurance_type_code": PENSION, "contribution_year": 2026, "agreement_kind": "two_party", "agreement_id": 1,
              "agreement_no": "A1", "amount": Decimal("100.00"), "rule_ref": "r", "idempotency_key": "K1", **changes}
    return BatchDeductionItem.objects.create(**fields)


def test_the_database_refuses_a_second_item_per_payer_a_second_live_item_and_a_non_positive_amount(demo_people, clock, sims):
    _, profile, _ = on_batch(clock.now)
    task = launched(clock.now, profile)
    other = BatchDeductionTask.objects.create(public_id="t2", insurance_type_code=PENSION, insurance_type="x", contribution_year=2026,
                                              city_code="450100", city_name="x", deduction_on=DEDUCTION_ON, created_by=operator(),
                                              created_at=clock.now)
    _item(task, registration_no="R1")
    for bad in ({"public_id": "x2", "idempotency_key": "K2"},  # same task, same payer
                {"task": other, "public_id": "x3", "idempotency_key": "K3"},  # another task, a second live item
                {"task": other, "public_id": "x4", "idempotency_key": "K4", "registration_no": "R9", "amount": Decimal("0.00")}):
        with pytest.raises(IntegrityError), transaction.atomic():
            _item(task if "task" not in bad else bad.pop("task"), **bad)
    _item(other, public_id="x5", idempotency_key="K5", state=BatchItemState.VOIDED)  # a voided one is not live
    assert BatchDeductionItem.objects.filter(registration_no="R1").count() == 2

