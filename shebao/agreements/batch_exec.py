"""Executing a batch deduction (批量扣款执行, REQUIREMENTS §2.6): jobs claim chunks, deduct
each item through the BankGateway, record the tax receipt at the core.

* A chunk is claimed under a row lock (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
  any number of jobs on any number of machines share a task without waiting on each other;
  SQLite serialises writers, a plain select is enough) and names the job holding it. A job
  run again after its worker died (``shebao.jobs.recovery``) resumes its own chunk first.
* One item, three steps, each committed on its own:
  1. under the item's lock: ``pending`` → ``deducting`` and its yearly item declared at the
     core, or ``skipped_paid`` when the period is already paid by another channel (never
     deducted twice), or nothing when the person voided it first;
  2. the bank's ``deduct`` with the item's idempotency key, outside any transaction;
  3. under the lock again: success → the core records the payment (the tax receipt) and the
     item ``succeeded``; refusal → the declaration voided, the item ``failed`` with the
     bank's reason in plain words, and the signer told by SMS.
  A worker killed anywhere leaves the item ``pending`` (nothing sent) or ``deducting`` (sent
  or not): the rerun sends the identical request with the same key, and the bank answers
  the first outcome without moving money again. A retryable bank error fails the job for a
  retry with backoff (``retry_retryable``), the chunk kept by the job.
* The watchdog frees the chunks of jobs that no longer run and queues a job for a running
  task whose chunks no job holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction

from shebao.adapters.bank import BankAccount, BankGateway, BankRequestRefused, get_bank_gateway
from shebao.adapters.core import get_core
from shebao.adapters.core.port import CoreConflict, DeclarationRequest
from shebao.agreements.batch_models import (
    BatchChunkState,
    BatchDeductionChunk,
    BatchDeductionItem,
    BatchDeductionTask,
    BatchItemState,
    BatchTaskState,
)
from shebao.agreements.models import ThreePartyAgreement, TwoPartyAgreement
from shebao.common import clock
from shebao.common.states import transition
from shebao.reference.banks import CLEARING_BANK_CODES

SYSTEM_REF = "system:batch_deduction"
CHANNEL = "bank_batch"
PAID_ELSEWHERE = "该期费款已通过其他渠道缴纳，本次不再扣款"
DECLARED_ELSEWHERE = "该年度已有待缴费的申报，本次未扣款；请在“缴费记录”中完成缴费"
REFUSED = "银行未受理本次扣款，请咨询开户银行"
AGREEMENT_GONE = "扣款协议已解除或不可用，本次未扣款"


def _locking(qs):
    return qs.select_for_update(skip_locked=True) if connection.features.has_select_for_update_skip_locked else qs


def batch_chunk_claim(*, task: BatchDeductionTask, job_ref: str, now: dt.datetime) -> BatchDeductionChunk | None:
    """The chunk this job holds (a rerun resumes it), else the lowest pending one, now held by
    the job; None when no chunk is left to claim."""
    with transaction.atomic():
        own = BatchDeductionChunk.objects.filter(task=task, state=BatchChunkState.RUNNING, claimed_by=job_ref).order_by("chunk_no").first()
        if own is not None:
            return own
        chunk = _locking(BatchDeductionChunk.objects.filter(task=task, state=BatchChunkState.PENDING).order_by("chunk_no")).first()
        if chunk is None:
            return None
        chunk.state, chunk.claimed_by, chunk.claimed_at = BatchChunkState.RUNNING, job_ref, now
        chunk.save(update_fields=["state", "claimed_by", "claimed_at"])
        return chunk


def _agreement_account(item: BatchDeductionItem) -> tuple[BankAccount, str] | None:
    """The bank account and the tax organ code of the item's agreement, if it is still usable."""
    if item.agreement_kind == "three_party":
        row = ThreePartyAgreement.objects.filter(pk=item.agreement_id, state="verified").first()
        tax_org_code = row.tax_org_code if row else ""
    else:
        row = TwoPartyAgreement.objects.filter(pk=item.agreement_id, state="active").first()
        tax_org_code = settings.BANK["TAX_ORG_CODE"]
    if row is None:
        return None
    return BankAccount(bank_code=CLEARING_BANK_CODES[row.bank_code], account_no=row.account_number,
                       account_name=row.account_name), tax_org_code


def _finish(item: BatchDeductionItem, state: str, reason: str, now: dt.datetime, **extra) -> BatchDeductionItem:
    return transition(item, state, actor_ref=SYSTEM_REF, reason=reason or "扣款成功", now=now, locked=True,
                      extra={"failure_reason": reason, "finished_at": now, **extra})


def _begin(item_id: int, core, now: dt.datetime) -> BatchDeductionItem:
    """Step 1 (module docstring): the item as it leaves the step."""
    with transaction.atomic():
        item = BatchDeductionItem.objects.select_for_update().get(pk=item_id)
        if item.state != BatchItemState.PENDING:
            return item
        taken = core.periods_taken(registration_no=item.registration_no, contribution_year=item.contribution_year)
        months = taken.get(item.insurance_type_code, {})
        if "paid" in months.values():
            return _finish(item, BatchItemState.SKIPPED_PAID, PAID_ELSEWHERE, now)
        year = item.contribution_year
        request = DeclarationRequest(insurance_type_code=item.insurance_type_code, contribution_year=year, period_from=f"{year}01",
                                     period_to=f"{year}12", base_amount=None, rate=None, lines=((f"{year}01", item.amount),),
                                     rule_refs=(item.rule_ref,))
        try:
            with transaction.atomic():
                declaration = core.declaration_submit(registration_no=item.registration_no, requests=[request], now=now)[0]
        except CoreConflict:
            return _finish(item, BatchItemState.FAILED, DECLARED_ELSEWHERE, now)
        return transition(item, BatchItemState.DEDUCTING, actor_ref=SYSTEM_REF, reason="发送银行扣款", now=now, locked=True,
                          extra={"declaration_no": declaration.declaration_no})


def batch_item_deduct(*, item_id: int, gateway: BankGateway | None = None, core=None,
                      now: Callable[[], dt.datetime] = clock.now) -> str:
    """Deduct one item (the three steps of the module docstring); the state it is left in.
    Safe to run again at any point. ``BankUnavailable`` is raised with the item left
    ``deducting`` (the rerun sends the identical request)."""
    core = core or get_core()
    item = _begin(item_id, core, now())
    if item.state != BatchItemState.DEDUCTING:
        return item.state
    account = _agreement_account(item)
    if account is None:
        with transaction.atomic():
            item = BatchDeductionItem.objects.select_for_update().get(pk=item_id)
            if item.state != BatchItemState.DEDUCTING:
                return item.state
            core.declaration_void(registration_no=item.registration_no, declaration_no=item.declaration_no, reason=AGREEMENT_GONE,
                                  now=now())
            return _finish(item, BatchItemState.FAILED, AGREEMENT_GONE, now()).state
    bank_account, tax_org_code = account
    try:
        answer = (gateway or get_bank_gateway()).deduct(
            idempotency_key=item.idempotency_key, agreement_no=item.agreement_no, account=bank_account,
            amount_fen=int(item.amount * 100), on=item.task.deduction_on, tax_org_code=tax_org_code,
            payer_code=item.registration_no, payer_name=bank_account.account_name, voucher_no=item.declaration_no)
        succeeded, reason, bank_ref = answer.succeeded, answer.reason_text, answer.bank_ref
    except BankRequestRefused:
        succeeded, reason, bank_ref = False, REFUSED, ""
    return _record(item_id, core, succeeded=succeeded, reason=reason, bank_ref=bank_ref, now=now())


def _record(item_id: int, core, *, succeeded: bool, reason: str, bank_ref: str, now: dt.datetime) -> str:
    """Step 3 (module docstring)."""
    with transaction.atomic():
        item = BatchDeductionItem.objects.select_for_update().get(pk=item_id)
        if item.state != BatchItemState.DEDUCTING:
            return item.state  # recorded by a run before this one
        if succeeded:
            receipt = core.payment_record(registration_no=item.registration_no, declaration_nos=[item.declaration_no], channel=CHANNEL,
                                          transaction_id=item.idempotency_key, amount=item.amount, paid_at=now)
            return _finish(item, BatchItemState.SUCCEEDED, "", now, bank_ref=bank_ref, tax_receipt_no=receipt.receipt_no).state
        core.declaration_void(registration_no=item.registration_no, declaration_no=item.declaration_no, reason=reason, now=now)
        item = _finish(item, BatchItemState.FAILED, reason, now)
        _tell_failure(item, now)
        return item.state


def _tell_failure(item: BatchDeductionItem, now: dt.datetime) -> None:
    """The signer is told by SMS that the bank did not deduct, and why (queued in the
    transaction that records the failure: sent once it commits)."""
    from shebao.accounts.services import sms_notice_queue

    mobile = item.account.mobile
    if mobile:
        sms_notice_queue(mobile=mobile, notice="batch_failed", subject_ref=item.public_id, request_id="", now=now,
                         params={"insurance": item.task.insurance_type, "amount": f"{item.amount:.2f}",
                                 "reason": item.failure_reason.rstrip("。")})


def batch_task_execute(*, task_id: int, job_ref: str, gateway: BankGateway | None = None, core=None,
                       now: Callable[[], dt.datetime] = clock.now) -> dict[str, int]:
    """One execution job: claim chunks and deduct their items until none is left; the last
    job to finish a chunk of the task marks it done. Counts per outcome of this job."""
    task = BatchDeductionTask.objects.get(pk=task_id)
    counts: dict[str, int] = {}
    if task.state != BatchTaskState.RUNNING:
        return counts
    gateway, core = gateway or get_bank_gateway(), core or get_core()
    while (chunk := batch_chunk_claim(task=task, job_ref=job_ref, now=now())) is not None:
        ids = (BatchDeductionItem.objects.filter(task=task, chunk_no=chunk.chunk_no,
                                                 state__in=[BatchItemState.PENDING, BatchItemState.DEDUCTING])
               .order_by("pk").values_list("pk", flat=True))
        for item_id in list(ids):
            state = batch_item_deduct(item_id=item_id, gateway=gateway, core=core, now=now)
            counts[state] = counts.get(state, 0) + 1
        BatchDeductionChunk.objects.filter(pk=chunk.pk, claimed_by=job_ref).update(state=BatchChunkState.DONE, finished_at=now())
    batch_task_finish(task_id=task.pk, now=now())
    return counts


def batch_task_finish(*, task_id: int, now: dt.datetime) -> bool:
    """A running task with every chunk done → done (once, under the task's lock)."""
    with transaction.atomic():
        task = BatchDeductionTask.objects.select_for_update().get(pk=task_id)
        if task.state != BatchTaskState.RUNNING or BatchDeductionChunk.objects.filter(task=task).exclude(state=BatchChunkState.DONE).exists():
            return False
        transition(task, BatchTaskState.DONE, actor_ref=SYSTEM_REF, reason="扣款完成", now=now, locked=True, extra={"finished_at": now})
        return True


def batch_watchdog(*, now: dt.datetime) -> dict[str, int]:
    """Chunks held by a job that is no longer queued or running (it failed for good, or
    finished without releasing them) go back to pending; a running task with pending chunks
    and no live execution job gets one."""
    from django_tasks_db.models import DBTaskResult

    from shebao.agreements.batch_tasks import execute_batch

    live_jobs = {str(pk): job for pk, job in DBTaskResult.objects.filter(task_path=execute_batch.module_path,
                                                                          status__in=["READY", "RUNNING"]).values_list("pk", "args_kwargs")}
    freed = queued = 0
    held = BatchDeductionChunk.objects.filter(state=BatchChunkState.RUNNING, task__state=BatchTaskState.RUNNING)
    for chunk in held.only("pk", "claimed_by"):
        if chunk.claimed_by not in live_jobs:
            freed += BatchDeductionChunk.objects.filter(pk=chunk.pk, state=BatchChunkState.RUNNING, claimed_by=chunk.claimed_by).update(
                state=BatchChunkState.PENDING, claimed_by="", claimed_at=None)
    served = {(job or {}).get("kwargs", {}).get("task_id") for job in live_jobs.values()}
    for task in BatchDeductionTask.objects.filter(state=BatchTaskState.RUNNING):
        if task.pk in served:
            continue
        if BatchDeductionChunk.objects.filter(task=task, state=BatchChunkState.PENDING).exists():
            execute_batch.enqueue(task_id=task.pk)
            queued += 1
        else:
            batch_task_finish(task_id=task.pk, now=now)
    return {"freed": freed, "queued": queued}
