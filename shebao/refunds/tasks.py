"""The refunds' background job: the core's 退库 decisions taken into the applications."""

from __future__ import annotations

try:  # Django 6: the framework is built in; the backport keeps the same API
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task

from shebao.common import clock
from shebao.jobs.retry import retry_retryable


@task()
@retry_retryable
def follow_refunds() -> dict[str, int]:
    """Periodic (shebao.jobs.schedule): shebao.refunds.services.refunds_follow_up."""
    from shebao.refunds.services import refunds_follow_up

    return refunds_follow_up(now=clock.now())
