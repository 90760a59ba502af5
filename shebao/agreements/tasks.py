"""The agreements' background job: two-party agreements the bank could not check at
signing are asked about again."""

from __future__ import annotations

try:  # Django 6: the framework is built in; the backport keeps the same API
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task

from shebao.common import clock
from shebao.jobs.retry import retry_retryable


@task()
@retry_retryable
def check_pending_agreements() -> dict[str, int]:
    """Periodic (shebao.jobs.schedule): shebao.agreements.agreement_services.two_party_checks_follow_up."""
    from shebao.agreements.agreement_services import two_party_checks_follow_up

    return two_party_checks_follow_up(now=clock.now())
