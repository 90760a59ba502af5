"""批量扣款执行 (REQUIREMENTS §2.6): chunks claimed by jobs, each item deducted through the
BankGateway (the simulator over loopback) with its idempotency key; success → a tax receipt
at the core; a failure with a plain reason; a period paid by another channel skipped; a
rerun deducts nobody twice; the watchdog frees the chunks of jobs that no longer run."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from shebao.adapters.bank.port import BankUnavailable
from shebao.adapters.core import get_core
from shebao.adapters.core.port import DeclarationRequest
from shebao.agreements import batch_exec, batch_services
from shebao.agreements.batch_models import (
    BatchChunkState,
    BatchDeductionChunk,
    BatchDeductionItem,
    BatchItemState,
    BatchTaskState,
)
from shebao.agreements.batch_tasks import execute_batch
from tests.agreements.batch_helpers import launched, on_batch
from tests.agreements.helpers import LI, own_card

pytestmark = pytest.mark.django_db


def _run(task, clock, job_ref: str = "job-1", **kw):
    task = batch_services.batch_task_start(task=task, now=clock.now)
    return batch_exec.batch_task_execute(task_id=task.pk, job_ref=job_ref, now=lambda: clock.now, **kw)


def test_a_deduction_succeeds_with_a_tax_receipt_and_the_task_is_done(demo_people, clock, sims):
    _, profile, grade = on_batch(clock.now)
    task = launched(clock.now, profile)
    balance = sims.bank_rows("accounts")

    counts = _run(task, clock)

    item = BatchDeductionItem.objects.get()
    task.refresh_from_db()
    receipt = get_core().tax_receipt_get(receipt_no=item.tax_receipt_no)
    deductions = sims.bank_rows("deductions")
    assert counts == {"succeeded": 1}
    assert (item.state, item.failure_reason, item.finished_at) == (BatchItemState.SUCCEEDED, "", clock.now)
    assert (receipt.registration_no, receipt.amount, receipt.channel, receipt.bank_serial_no) == (
        profile.registration_no, grade, "bank_batch", item.idempotency_key)
    assert [(d["tra_no"], d["amount_fen"], d["result"]) for d in deductions] == [(item.idempotency_key, int(grade * 100), "90000")]
    assert item.bank_ref == deductions[0]["bank_tra_no"]
    card = own_card(LI).account_number
    before = next(a["balance_fen"] for a in balance if a["account_no"] == card)
    assert next(a["balance_fen"] for a in sims.bank_rows("accounts") if a["account_no"] == card) == before - int(grade * 100)
    assert (task.state, task.finished_at) == (BatchTaskState.DONE, clock.now)
    assert list(BatchDeductionChunk.objects.values_list("state", "claimed_by")) == [("done", "job-1")]


def test_insufficient_balance_fails_with_a_plain_reason_the_declaration_voided_and_the_person_told(demo_people, clock, sims):
    account, profile, _ = on_batch(clock.now)
    sims.bank_account(own_card(LI).account_number, name=LI, balance_fen=100)
    task = launched(clock.now, profile)

    _run(task, clock)

    item = BatchDeductionItem.objects.get()
    assert (item.state, item.failure_reason, item.tax_receipt_no) == (BatchItemState.FAILED, "银行账户余额不足，请存入足够金额后再扣款", "")
    [declaration] = get_core().declarations_get(registration_no=profile.registration_no, declaration_nos=[item.declaration_no])
    assert declaration.state == "voided"
    assert next(a["balance_fen"] for a in sims.bank_rows("accounts") if a["account_no"] == own_card(LI).account_number) == 100
    [told] = [m["text"] for m in sims.messages(account.mobile) if "批量扣款" in m["text"]]
    assert told == (f"【广西税务】您的城乡居民基本养老保险批量扣款{item.amount:.2f}元未成功：银行账户余额不足，请存入足够金额后再扣款。"
                    "请通过社保费掌上办“申报及缴纳”缴费。")


def test_a_period_paid_by_another_channel_is_skipped_and_never_deducted(demo_people, clock, sims):
    _, profile, grade = on_batch(clock.now)
    task = launched(clock.now, profile)
    core = get_core()

    [paid] = core.declaration_submit(registration_no=profile.registration_no, now=clock.now, requests=[DeclarationRequest(
        insurance_type_code="10210-RES", contribution_year=2026, period_from="202601", period_to="202612", base_amount=None,
        rate=None, lines=(("202601", grade),), rule_refs=("r",))])
    core.payment_record(registration_no=profile.registration_no, declaration_nos=[paid.declaration_no], channel="wechatpay",
                        transaction_id="WX1", amount=grade, paid_at=clock.now)

    assert _run(task, clock) == {"skipped_paid": 1}
    item = BatchDeductionItem.objects.get()
    assert (item.state, item.failure_reason) == (BatchItemState.SKIPPED_PAID, "该期费款已通过其他渠道缴纳，本次不再扣款")
    assert sims.bank_rows("deductions") == []


def test_a_bank_timeout_keeps_the_item_deducting_and_the_rerun_deducts_once(demo_people, clock, sims, settings):
    _, profile, grade = on_batch(clock.now)
    task = launched(clock.now, profile)
    sims.control("bank", mode="timeout", delay_seconds=1.5)
    settings.BANK = {**settings.BANK, "TIMEOUT_SECONDS": 0.5}
    with pytest.raises(BankUnavailable):
        _run(task, clock)
    item = BatchDeductionItem.objects.get()
    assert item.state == BatchItemState.DEDUCTING
    assert [d["tra_no"] for d in sims.bank_rows("deductions")] == [item.idempotency_key]  # the bank did it, we do not know

    sims.control("bank", mode="ok")
    assert batch_exec.batch_task_execute(task_id=task.pk, job_ref="job-1", now=lambda: clock.now) == {"succeeded": 1}
    assert len(sims.bank_rows("deductions")) == 1
    assert BatchDeductionItem.objects.get().state == BatchItemState.SUCCEEDED


def test_a_job_resumes_its_own_chunk_and_another_job_finds_nothing_left(demo_people, clock, sims):
    _, profile, _ = on_batch(clock.now)
    task = batch_services.batch_task_start(task=launched(clock.now, profile), now=clock.now)
    chunk = batch_exec.batch_chunk_claim(task=task, job_ref="job-1", now=clock.now)

    assert batch_exec.batch_chunk_claim(task=task, job_ref="job-2", now=clock.now) is None
    assert batch_exec.batch_chunk_claim(task=task, job_ref="job-1", now=clock.now) == chunk
    assert batch_exec.batch_task_execute(task_id=task.pk, job_ref="job-2", now=lambda: clock.now) == {}
    assert BatchDeductionItem.objects.get().state == BatchItemState.PENDING  # job-1's, untouched


def test_the_watchdog_frees_the_chunk_of_a_job_that_no_longer_runs_and_queues_a_job(demo_people, clock, sims):
    _, profile, _ = on_batch(clock.now)
    task = batch_services.batch_task_start(task=launched(clock.now, profile), now=clock.now)
    DBTaskResult.objects.all().delete()  # the queued execution job is gone (failed for good, say)
    batch_exec.batch_chunk_claim(task=task, job_ref="dead-job", now=clock.now)

    assert batch_exec.batch_watchdog(now=clock.now) == {"freed": 1, "queued": 1}
    assert list(BatchDeductionChunk.objects.values_list("state", "claimed_by")) == [(BatchChunkState.PENDING, "")]
    assert DBTaskResult.objects.filter(task_path=execute_batch.module_path, status="READY").count() == 1
    assert batch_exec.batch_watchdog(now=clock.now) == {"freed": 0, "queued": 0}  # a live job serves the task


def test_starting_queues_execution_jobs_and_a_task_whose_date_has_not_come_waits(demo_people, clock, sims, settings):
    settings.BATCH_WORKERS_PER_TASK = 3
    _, profile, _ = on_batch(clock.now)
    task = launched(clock.now, profile)
    assert batch_services.batch_tasks_start_due(now=clock.now) == []
    clock.now = clock.now.replace(day=6)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert batch_services.batch_tasks_start_due(now=clock.now) == [task.pk]
    # one chunk: one job is enough
    assert DBTaskResult.objects.filter(task_path=execute_batch.module_path).count() == 1
