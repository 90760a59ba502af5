"""Batch deduction (批量扣款, REQUIREMENTS §2.6): launching a task, building its pending
list (待批扣清册), starting it on its deduction date, a person voiding their item, and the
reminder before the date. The only writer of the batch models with ``batch_exec`` (which
deducts).

The list is built in one transaction (a build killed half-way leaves nothing and runs again
from the start), streaming the payable amounts in registration-number order in pages of
``BATCH_BUILD_PAGE`` and writing each page with one ``bulk_create``: memory stays flat in the
number of items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum

from shebao.agreements.batch_build_sql import build_in_database
from shebao.agreements.batch_models import (
    LIVE_ITEM_STATES,
    BatchChunkState,
    BatchDeductionChunk,
    BatchDeductionItem,
    BatchDeductionTask,
    BatchItemState,
    BatchTaskState,
)
from shebao.agreements.models import PayableAmountChoice, ThreePartyAgreement, ThreePartyState, TwoPartyAgreement, TwoPartyState
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor
from shebao.common.clock import SHANGHAI
from shebao.common.states import transition

SYSTEM_REF = "system:batch_deduction"
BATCH_BUILD_PAGE = 5000
REMIND_DAYS_BEFORE = 3  # the reminder goes out this many days before the deduction date


class BatchError(Exception):
    """Refused; the message is for the person or the operator. Nothing was changed."""


def _chunk_size() -> int:
    return settings.BATCH_CHUNK_SIZE


def batch_task_check(*, insurance_type_code: str, contribution_year: int, city_code: str, deduction_on: dt.date, now: dt.datetime):
    """Why a task cannot be launched (``BatchError``), else (city, insurance type): a known city
    and insurance type, a deduction date after today (Asia/Shanghai), no unfinished task for the
    same city, type and year."""
    from shebao.reference.models import City, InsuranceType

    city = City.objects.filter(division_code=city_code).first()
    itype = InsuranceType.objects.filter(code=insurance_type_code).first()
    if city is None or itype is None:
        raise BatchError("请选择地市和险种")
    if deduction_on <= now.astimezone(SHANGHAI).date():
        raise BatchError("扣款日期应晚于今天，以便缴费人收到提醒并作废或充值")
    if BatchDeductionTask.objects.filter(insurance_type_code=itype.code, contribution_year=contribution_year, city_code=city_code,
                                         state__in=[BatchTaskState.DRAFT, BatchTaskState.BUILDING, BatchTaskState.BUILT,
                                                    BatchTaskState.RUNNING]).exists():
        raise BatchError("该地市该险种该年度已有未完成的批量扣款任务")
    return city, itype


def batch_task_create(*, actor: Actor, insurance_type_code: str, contribution_year: int, city_code: str, deduction_on: dt.date,
                      now: dt.datetime) -> BatchDeductionTask:
    """发起批量扣款任务 (staff, the back office): a draft task, audited; its list is built by a
    job queued with it. Refused as ``batch_task_check`` says."""
    from shebao.agreements.batch_tasks import build_batch

    city, itype = batch_task_check(insurance_type_code=insurance_type_code, contribution_year=contribution_year, city_code=city_code,
                                   deduction_on=deduction_on, now=now)
    with transaction.atomic():
        task = BatchDeductionTask.objects.create(
            public_id=crypto.random_token(12), insurance_type_code=itype.code, insurance_type=itype.name,
            contribution_year=contribution_year, city_code=city.division_code, city_name=city.name, deduction_on=deduction_on,
            created_by=actor.account, created_at=now)
        audit_record(actor=actor, action="batch.task.create", subject_type="batch_task", subject_ref=task.public_id,
                     changes={"task": {"old": None, "new": str(task)}}, now=now)
        transaction.on_commit(lambda: build_batch.enqueue(task_id=task.pk))
    return task


def _city_rule_refs(task: BatchDeductionTask) -> list[str]:
    from shebao.rules.models import ContributionRule
    from shebao.rules.selectors import rule_ref

    ids = ContributionRule.objects.filter(city__division_code=task.city_code, insurance_type__code=task.insurance_type_code,
                                          contribution_year=task.contribution_year).values_list("pk", flat=True)
    return [rule_ref(pk) for pk in ids]


def _current_choices(task: BatchDeductionTask):
    """(registration no, amount, rule ref) of each payer's choice in force, in registration order."""
    rows = (PayableAmountChoice.objects
            .filter(insurance_type_code=task.insurance_type_code, contribution_year=task.contribution_year,
                    rule_ref__in=_city_rule_refs(task))
            .order_by("registration_no", "-chosen_at", "-pk").values_list("registration_no", "amount", "rule_ref"))
    last = None
    for registration_no, amount, ref in rows.iterator(chunk_size=BATCH_BUILD_PAGE):
        if registration_no != last:
            last = registration_no
            yield registration_no, amount, ref


def _agreements(registration_nos: list[str]) -> dict[str, tuple[str, int, str, int]]:
    """registration no → (kind, agreement pk, agreement no, signer's account pk) of a usable
    agreement: a verified three-party one first, else an active two-party one."""
    found = {reg: ("two_party", pk, no, acc) for reg, pk, no, acc in TwoPartyAgreement.objects.filter(
        registration_no__in=registration_nos, state=TwoPartyState.ACTIVE).values_list("registration_no", "pk", "agreement_no", "account_id")}
    found.update({reg: ("three_party", pk, no, acc) for reg, pk, no, acc in ThreePartyAgreement.objects.filter(
        registration_no__in=registration_nos, state=ThreePartyState.VERIFIED).order_by("verified_at")
        .values_list("registration_no", "pk", "agreement_no", "account_id")})
    return found


def _pages(task: BatchDeductionTask):
    page = []
    for row in _current_choices(task):
        page.append(row)
        if len(page) == BATCH_BUILD_PAGE:
            yield page
            page = []
    if page:
        yield page


def _build_in_python(task: BatchDeductionTask, *, size: int) -> tuple[int, Decimal, int]:
    """The portable path of ``batch_task_build`` (pages of payers, one ``bulk_create`` each);
    PostgreSQL builds the same list in one statement (``batch_build_sql``)."""
    count, total = 0, Decimal("0.00")
    for page in _pages(task):
        regs = [reg for reg, _, _ in page]
        agreements = _agreements(regs)
        busy = set(BatchDeductionItem.objects.filter(
            registration_no__in=regs, insurance_type_code=task.insurance_type_code, contribution_year=task.contribution_year,
            state__in=LIVE_ITEM_STATES).values_list("registration_no", flat=True))
        items = []
        for reg, amount, ref in page:
            agreement = agreements.get(reg)
            if agreement is None or reg in busy:
                continue
            kind, agreement_pk, agreement_no, account_pk = agreement
            items.append(BatchDeductionItem(
                public_id=crypto.random_token(12), task_id=task.pk, chunk_no=count // size, account_id=account_pk,
                registration_no=reg, insurance_type_code=task.insurance_type_code, contribution_year=task.contribution_year,
                agreement_kind=kind, agreement_id=agreement_pk, agreement_no=agreement_no, amount=amount, rule_ref=ref,
                idempotency_key=f"BK{task.pk:08d}{count:012d}"))
            count += 1
            total += amount
        BatchDeductionItem.objects.bulk_create(items, batch_size=BATCH_BUILD_PAGE)
    chunks = (count + size - 1) // size
    BatchDeductionChunk.objects.bulk_create([BatchDeductionChunk(task_id=task.pk, chunk_no=n) for n in range(chunks)],
                                            batch_size=BATCH_BUILD_PAGE)
    return count, total, chunks


def batch_task_build(*, task_id: int, now: dt.datetime) -> BatchDeductionTask:
    """生成待批扣清册: one item per payer of the task's city with a choice in force for its
    insurance type and year and a usable agreement, unless already on a live item of the same
    type and year (another task). Items are numbered into chunks of ``BATCH_CHUNK_SIZE``.
    Safe to run again: a task past building is left alone; a half-built one is rebuilt."""
    task = BatchDeductionTask.objects.get(pk=task_id)
    if task.state == BatchTaskState.DRAFT:
        task = transition(task, BatchTaskState.BUILDING, actor_ref=SYSTEM_REF, reason="生成待批扣清册", now=now)
    if task.state != BatchTaskState.BUILDING:
        return task
    size = _chunk_size()
    with transaction.atomic():
        BatchDeductionItem.objects.filter(task=task).delete()
        BatchDeductionChunk.objects.filter(task=task).delete()
        if connection.vendor == "postgresql":
            count, total, chunks = build_in_database(task, size=size, rule_refs=_city_rule_refs(task))
        else:
            count, total, chunks = _build_in_python(task, size=size)
        task = transition(task, BatchTaskState.BUILT, actor_ref=SYSTEM_REF, reason=f"清册生成：{count}人", now=now,
                          extra={"item_count": count, "chunk_count": chunks, "total_amount": total, "built_at": now})
    return task


def _workers() -> int:
    return settings.BATCH_WORKERS_PER_TASK


def batch_task_start(*, task: BatchDeductionTask, now: dt.datetime, workers: int | None = None) -> BatchDeductionTask:
    """开始扣款: a built task → running, and ``workers`` execution jobs queued with it (each
    claims chunks until none is left; any number of workers on any number of machines)."""
    from shebao.agreements.batch_tasks import execute_batch

    with transaction.atomic():
        task = transition(task, BatchTaskState.RUNNING, actor_ref=SYSTEM_REF, reason="开始扣款", now=now,
                          extra={"started_at": now})
        for _ in range(max(1, min(workers or _workers(), task.chunk_count or 1))):
            transaction.on_commit(lambda: execute_batch.enqueue(task_id=task.pk))
    return task


def batch_tasks_start_due(*, now: dt.datetime) -> list[int]:
    """The periodic job: every built task whose deduction date has come (Asia/Shanghai) starts."""
    today = now.astimezone(SHANGHAI).date()
    started = []
    for task in BatchDeductionTask.objects.filter(state=BatchTaskState.BUILT, deduction_on__lte=today).order_by("pk"):
        batch_task_start(task=task, now=now)
        started.append(task.pk)
    return started


def batch_item_void(*, actor: Actor, public_id: str, now: dt.datetime) -> BatchDeductionItem:
    """待批扣清册作废: the person's own item, while it is still pending (its deduction has not
    started). Locks the item: a void racing the deduction of the same item leaves exactly one
    of them done (the other is refused or skips it)."""
    account = actor.citizen_account()
    with transaction.atomic():
        item = BatchDeductionItem.objects.select_for_update().filter(public_id=public_id, account=account).first()
        if item is None:
            raise BatchError("未找到该待批扣记录")
        if item.state != BatchItemState.PENDING:
            raise BatchError(f"该记录{item.get_state_display()}，不能作废")
        item = transition(item, BatchItemState.VOIDED, actor_ref=actor.ref[:64], reason="缴费人作废", now=now, locked=True,
                          extra={"finished_at": now})
        audit_record(actor=actor, action="batch.item.void", subject_type="batch_item", subject_ref=item.public_id,
                     changes={"state": {"old": BatchItemState.PENDING, "new": BatchItemState.VOIDED}}, now=now)
    return item


def batch_reminders_send(*, now: dt.datetime, days_before: int = REMIND_DAYS_BEFORE) -> dict[str, int]:
    """扣款提醒: for every built task whose deduction date is at most ``days_before`` days
    ahead and not reminded yet, one SMS per pending item to the signer's mobile, with the
    amount and the date, so the balance can be topped up (or the item voided). The task is
    marked reminded in the same transaction as the notices it queued."""
    from shebao.accounts.services import sms_notice_queue

    today = now.astimezone(SHANGHAI).date()
    sent = tasks = 0
    due = BatchDeductionTask.objects.filter(state=BatchTaskState.BUILT, reminded_at__isnull=True,
                                            deduction_on__gt=today, deduction_on__lte=today + dt.timedelta(days=days_before))
    for task in due.order_by("pk"):
        with transaction.atomic():
            task = BatchDeductionTask.objects.select_for_update().get(pk=task.pk)
            if task.reminded_at is not None:
                continue
            date = f"{task.deduction_on.month}月{task.deduction_on.day}日"
            items = (BatchDeductionItem.objects.filter(task=task, state=BatchItemState.PENDING).select_related("account")
                     .only("public_id", "amount", "account__mobile", "account__public_id"))
            for item in items.iterator(chunk_size=BATCH_BUILD_PAGE):
                if not item.account.mobile:
                    continue
                sms_notice_queue(mobile=item.account.mobile, notice="batch_reminder", subject_ref=item.public_id, request_id="",
                                 params={"insurance": task.insurance_type, "date": date, "amount": f"{item.amount:.2f}"}, now=now)
                sent += 1
            task.reminded_at = now
            task.save(update_fields=["reminded_at"])
            tasks += 1
    return {"tasks": tasks, "sms": sent}


def batch_report(task: BatchDeductionTask) -> list[tuple[str, int, Decimal]]:
    """The reconciliation report of a task: (outcome label, items, amount) for every item
    state, then the total; counted from the items themselves."""
    rows = {state: (n, amount) for state, n, amount in
            BatchDeductionItem.objects.filter(task=task).values("state").annotate(n=Count("pk"), amount=Sum("amount"))
            .values_list("state", "n", "amount").order_by()}
    out = [(label, rows.get(state, (0, None))[0], rows.get(state, (0, None))[1] or Decimal("0.00"))
           for state, label in BatchItemState.choices]
    out.append(("合计", sum(n for _, n, _ in out), sum((a for _, _, a in out), Decimal("0.00"))))
    return out


def batch_chunks_left(task: BatchDeductionTask) -> int:
    return BatchDeductionChunk.objects.filter(task=task).exclude(state=BatchChunkState.DONE).count()
