"""The fee business's background job: charged payments that no bill keeps, refunded back the
way they were paid (shebao.fees.channel_refunds)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

try:  # Django 6: the framework is built in; the backport keeps the same API
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task

from shebao.common import clock
from shebao.jobs.retry import retry_retryable

FOLLOW_UPS = 5  # then the periodic run (every 5 minutes) takes over


@task()
@retry_retryable
def refund_charged_payments(follow_up: int = 0) -> dict[str, int]:
    """Queued when a payment turns DUPLICATE or REFUND_DUE, and periodic (shebao.jobs.schedule)
    to finish what a channel error or a lost worker left open. While refunds are still being
    processed at the channel, it asks again soon (REFUND_FOLLOW_UP_SECONDS, doubling), so the
    payer learns of the refund within a minute, not at the next periodic run; the channel's
    refund notification usually comes first."""
    from shebao.fees.channel_refunds import payment_refunds_run

    counts = payment_refunds_run(now=clock.now())
    if counts["open"] and follow_up < FOLLOW_UPS:
        # when the worker may run it: its own clock (the database's), not the business clock
        run_after = timezone.now() + dt.timedelta(seconds=settings.REFUND_FOLLOW_UP_SECONDS * 2 ** follow_up)
        refund_charged_payments.using(run_after=run_after).enqueue(follow_up=follow_up + 1)
    return counts
