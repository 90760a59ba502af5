"""Background jobs (django-tasks, database backend; docs/architecture.md "Background work").

A task is enqueued with ``some_task.enqueue(...)``: with the database backend that is one
INSERT into ``django_tasks_db_dbtaskresult`` on the default connection, so inside
``transaction.atomic()`` it commits or rolls back with the business write around it.
Tasks take no ``now``: each reads the one clock when it runs (a late worker sweeps what is
stale when it runs, not when it was scheduled). Every task is safe to run twice (a worker
killed mid-job leaves the job to be run again): each acts on the state it finds.
"""

from __future__ import annotations

import datetime as dt

try:  # Django 6: the framework is built in; the backport keeps the same API
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task

from shebao.common import clock
from shebao.jobs.retry import retry_retryable

# Challenges are counted by the per-number send limits for the day and the hour they were
# sent in (shebao.accounts.otp); two days is past every window and every code's lifetime.
SMS_CHALLENGE_KEEP = dt.timedelta(days=2)
# A form's idempotency key is only ever posted within its session (8 hours at most); two
# days keeps every key a live page can still send.
IDEMPOTENCY_KEY_KEEP = dt.timedelta(days=2)


PERIODIC_RUN_KEEP = dt.timedelta(days=2)


class ReconciliationMismatch(Exception):
    """The day's statement and our records differ: a person must look (final, no retry)."""


@task()
@retry_retryable
def close_stale_payments() -> dict[str, int]:
    """The stale-payment sweep (was ``manage.py close_stale_payments``)."""
    from shebao.fees.services import attempts_close_stale

    return attempts_close_stale(now=clock.now())


@task()
def purge_expired() -> dict[str, int]:
    """Forget what has expired: SMS challenges past every limit window, sessions past their
    expiry (what ``manage.py clearsessions`` does) and idempotency keys no page can send.
    (Throttle and rate-limit counts are not rows: they live in the TTL-bounded rate-limit
    store, shebao.common.ratelimit, and expire there.)"""
    from django.contrib.sessions.models import Session

    from shebao.accounts.models import SmsChallenge, SmsNotice
    from shebao.common.models import IdempotencyKey
    from shebao.jobs.models import PeriodicRun

    now = clock.now()
    return {
        "sms_challenges": SmsChallenge.objects.filter(created_at__lt=now - SMS_CHALLENGE_KEEP).delete()[0],
        # a notice's outcome is in the audit log; the row only serves its job
        "sms_notices": SmsNotice.objects.filter(created_at__lt=now - SMS_CHALLENGE_KEEP).exclude(send_state="queued").delete()[0],
        "sessions": Session.objects.filter(expire_date__lt=now).delete()[0],
        "idempotency_keys": IdempotencyKey.objects.filter(created_at__lt=now - IDEMPOTENCY_KEY_KEEP).delete()[0],
        # a period's row only has to outlive the period (the sealer's come every 10 s)
        "periodic_runs": PeriodicRun.objects.filter(period_start__lt=now - PERIODIC_RUN_KEEP).delete()[0],
    }


@task()
def seal_logs() -> dict[str, int]:
    """Seal what the archive and the audit log appended meanwhile (seq, SM3 chain, SM2-signed
    batch head; shebao.archive.services.seal_pending), so entries are sealed within seconds
    of their commit; one sealer at a time per log, whatever number of workers run it."""
    from shebao.archive.services import seal_pending

    return {kind: seal_pending(kind) for kind in ("archive", "audit")}


@task()
@retry_retryable
def advance_treasury_states() -> int:
    """The embedded core's treasury steps that are due (was ``manage.py core_advance_receipts``);
    a real core advances its own, so nothing to do there."""
    from shebao.adapters.core import get_core

    advance = getattr(get_core(), "receipts_advance", None)
    return advance(now=clock.now()) if advance else 0


@task()
@retry_retryable
def reconcile_day(day: str, channel_name: str = "wechatpay") -> dict:
    """One day's reconciliation (as ``manage.py reconcile --date``): UNKNOWN attempts queried
    first, then the channel's statement against our records. A retryable channel error runs
    the job again later; differences fail the job with them listed (the back office shows it)."""
    from shebao.adapters.payment import get_payment_channel
    from shebao.fees import reconcile
    from shebao.fees.services import attempts_resolve_unknown

    channel = get_payment_channel(channel_name)
    attempts_resolve_unknown(now=clock.now(), channel_name=channel.name)
    statement, attempts, diffs = reconcile.reconcile_day(channel=channel, day=dt.date.fromisoformat(day))
    if diffs:
        from shebao.common.metrics import RECONCILIATION_DIFFERENCES, count

        for d in diffs:
            count(RECONCILIATION_DIFFERENCES, d.kind)
        listed = "；".join(f"[{d.label}] {d.out_trade_no}：{d.detail}" for d in diffs)
        raise ReconciliationMismatch(f"{day} 对账不平：{len(diffs)} 处差异，请人工核查。{listed}")
    return {"day": day, "statement": len(statement), "ours": len(attempts)}
