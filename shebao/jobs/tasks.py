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

# Challenges are counted by the per-number send limits for the day and the hour they were
# sent in (shebao.accounts.otp); two days is past every window and every code's lifetime.
SMS_CHALLENGE_KEEP = dt.timedelta(days=2)


@task()
def close_stale_payments() -> dict[str, int]:
    """The stale-payment sweep (was ``manage.py close_stale_payments``)."""
    from shebao.fees.services import attempts_close_stale

    return attempts_close_stale(now=clock.now())


@task()
def purge_expired() -> dict[str, int]:
    """Forget what has expired: SMS challenges past every limit window, and sessions past
    their expiry (what ``manage.py clearsessions`` does)."""
    from django.contrib.sessions.models import Session

    from shebao.accounts.models import SmsChallenge

    now = clock.now()
    return {
        "sms_challenges": SmsChallenge.objects.filter(created_at__lt=now - SMS_CHALLENGE_KEEP).delete()[0],
        "sessions": Session.objects.filter(expire_date__lt=now).delete()[0],
    }
