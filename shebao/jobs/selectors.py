"""What the back office shows of the queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Min
from django_tasks_db.models import DBTaskResult


@dataclass(frozen=True)
class QueueHealth:
    waiting: int  # READY and due now
    deferred: int  # READY, due later (a retry's backoff)
    running: int
    failed: int
    oldest_waiting_age: dt.timedelta | None


def queue_health(*, now: dt.datetime) -> QueueHealth:
    """Queue depth and the age of the oldest job that could run now and waits."""
    due = DBTaskResult.objects.ready()
    oldest = due.aggregate(oldest=Min("enqueued_at"))["oldest"]
    waiting = due.count()
    return QueueHealth(
        waiting=waiting,
        deferred=DBTaskResult.objects.filter(status="READY").count() - waiting,
        running=DBTaskResult.objects.running().count(),
        failed=DBTaskResult.objects.failed().count(),
        oldest_waiting_age=(now - oldest) if oldest else None,
    )
