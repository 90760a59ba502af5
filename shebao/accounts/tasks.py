"""The accounts' background jobs: SMS out of the request (docs/architecture.md "Background work").

Each takes the public id of a row that holds what to send, encrypted for that row, never
the number or the code itself (the job table is not encrypted); each is safe to run again
(it acts only on a row still queued) and retries a retryable gateway error with backoff,
recording a final one, in the person's words, on the row on the last try.
"""

from __future__ import annotations

from django.conf import settings

try:  # Django 6: the framework is built in; the backport keeps the same API
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task

from shebao.common import clock
from shebao.jobs.retry import retry_retryable


def _last_try(context) -> bool:
    return context.attempt >= settings.JOBS_MAX_ATTEMPTS


@task(takes_context=True)
@retry_retryable
def send_sms_code(context, challenge_id: str, request_id: str = "") -> str:
    """Send a queued verification code (shebao.accounts.otp.otp_deliver)."""
    from shebao.accounts.otp import otp_deliver

    return otp_deliver(challenge_id=challenge_id, now=clock.now(), request_id=request_id, last_try=_last_try(context))


@task(takes_context=True)
@retry_retryable
def send_sms_notice(context, notice_id: str) -> str:
    """Send a queued SMS notice (shebao.accounts.services.sms_notice_deliver)."""
    from shebao.accounts.services import sms_notice_deliver

    return sms_notice_deliver(notice_id=notice_id, now=clock.now(), last_try=_last_try(context))
