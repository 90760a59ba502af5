"""Periodic work, once per period however many workers run.

Every worker's scheduler calls ``schedule_due`` now and then. For each periodic task it
computes the period that ``now`` falls in and, in one transaction, inserts the
``PeriodicRun(task_path, period_start)`` row and enqueues the task. The row is unique: a
second scheduler racing for the same period waits on the first one's insert (PostgreSQL's
unique index; SQLite's IMMEDIATE write lock) and then fails with IntegrityError, and its
transaction, with nothing enqueued, rolls back. A scheduler that is down for several
periods enqueues only the current one (the tasks sweep what they find, they do not need
one run per missed period).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from shebao.agreements import batch_tasks
from shebao.agreements import tasks as agreement_tasks
from shebao.archive import tasks as archive_tasks
from shebao.common import clock
from shebao.fees import tasks as fee_tasks
from shebao.jobs import tasks
from shebao.jobs.models import PeriodicRun
from shebao.refunds import tasks as refund_tasks

# Asia/Shanghai has kept UTC+8 all year since 1991: daily periods start at its midnight.
SHANGHAI_OFFSET = dt.timedelta(hours=8)


def _no_kwargs(period_start: dt.datetime) -> dict:
    return {}


def _yesterday(period_start: dt.datetime) -> dict:
    """The Shanghai day before the period's: fixed when scheduled, so a late run still
    reconciles the right day."""
    return {"day": (clock.local(period_start).date() - dt.timedelta(days=1)).isoformat()}


@dataclass(frozen=True)
class Periodic:
    task: object  # a django-tasks Task
    every: dt.timedelta
    offset: dt.timedelta = dt.timedelta(0)  # periods start at epoch - offset + n*every
    kwargs: Callable[[dt.datetime], dict] = _no_kwargs

    @property
    def path(self) -> str:
        return self.task.module_path

    def period_start(self, now: dt.datetime) -> dt.datetime:
        """The start of the period ``now`` falls in: periods are laid from the Unix epoch
        (UTC, moved back by ``offset``), so every machine computes the same start whatever
        its clock's zone."""
        seconds = int(self.every.total_seconds())
        shift = int(self.offset.total_seconds())
        return dt.datetime.fromtimestamp((int(now.timestamp()) + shift) // seconds * seconds - shift, tz=dt.UTC)


PERIODIC: tuple[Periodic, ...] = (
    Periodic(tasks.seal_logs, dt.timedelta(seconds=10)),  # the audit log and archive, sealed within seconds
    Periodic(tasks.close_stale_payments, dt.timedelta(minutes=5)),
    Periodic(fee_tasks.refund_charged_payments, dt.timedelta(minutes=5)),  # double payments back the way they came
    Periodic(tasks.advance_treasury_states, dt.timedelta(minutes=5)),
    Periodic(refund_tasks.follow_refunds, dt.timedelta(minutes=5)),  # the core's 退库 decisions
    Periodic(agreement_tasks.check_pending_agreements, dt.timedelta(minutes=5)),  # two-party agreements the bank owes an answer
    Periodic(batch_tasks.start_due_batches, dt.timedelta(minutes=5)),  # batch deductions whose date has come
    Periodic(batch_tasks.batch_watchdog, dt.timedelta(minutes=5)),  # chunks of batch jobs that no longer run
    Periodic(batch_tasks.send_batch_reminders, dt.timedelta(hours=1)),  # SMS a few days before a batch deduction
    Periodic(tasks.purge_expired, dt.timedelta(hours=1)),
    # the latest signed heads copied outside the database (SEAL_HEAD_EXPORT_DIR)
    Periodic(archive_tasks.export_signed_heads, dt.timedelta(hours=1)),
    # Daily from 10:30 Shanghai, when the channel's statement of the day before is out.
    Periodic(tasks.reconcile_day, dt.timedelta(days=1), offset=SHANGHAI_OFFSET - dt.timedelta(hours=10, minutes=30),
             kwargs=_yesterday),
)


def schedule_due(*, now: dt.datetime, periodic: tuple[Periodic, ...] = PERIODIC) -> list[str]:
    """Enqueue every periodic task whose current period has no run yet; the paths enqueued."""
    enqueued = []
    for item in periodic:
        start = item.period_start(now)
        if PeriodicRun.objects.filter(task_path=item.path, period_start=start).exists():
            continue  # the usual case: spare the database a failed insert every round
        try:
            with transaction.atomic():
                run = PeriodicRun.objects.create(task_path=item.path, period_start=start, enqueued_at=now)
                result = item.task.enqueue(**item.kwargs(start))
                run.result_id = str(result.id)
                run.save(update_fields=["result_id"])
        except IntegrityError:
            continue  # another scheduler has this period
        enqueued.append(item.path)
    return enqueued
