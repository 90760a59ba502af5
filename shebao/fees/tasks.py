"""The fee business's background job: charged payments that no bill keeps, refunded back the
way they were paid (shebao.fees.channel_refunds)."""

from __future__ import annotations

try:  # Django 6: the framework is built in; the backport keeps the same API
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task

from shebao.common import clock
from shebao.jobs.retry import retry_retryable


@task()
@retry_retryable
def refund_charged_payments() -> dict[str, int]:
    """Queued when a payment turns DUPLICATE or REFUND_DUE, and periodic (shebao.jobs.schedule)
    to finish what a channel error or a lost worker left open."""
    from shebao.fees.channel_refunds import payment_refunds_run

    return payment_refunds_run(now=clock.now())
