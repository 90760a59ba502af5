"""Retrying with backoff: retryable adapter errors run the same job again later.

Adapter errors say whether the identical call may be repeated with ``retryable``
(``PaymentError``, ``SmsError``, ``ProviderUnavailable``...). A task decorated with
``@retry_retryable`` turns such an error into ``RetryableJobError``; when the worker
records the job FAILED with it, ``on_task_finished`` (connected in JobsConfig.ready) puts
the same job back to READY with ``run_after`` pushed by the backoff, unless it has had
``JOBS_MAX_ATTEMPTS`` runs. A job that fails for good stays FAILED with the reason (the
exception and its cause, in the traceback the library records); a final (not retryable)
error fails the job at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from django.conf import settings

logger = logging.getLogger("shebao.jobs")


class RetryableJobError(Exception):
    """A retryable adapter error inside a job (its cause is the adapter's exception)."""


def retry_retryable(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if getattr(exc, "retryable", False):
                raise RetryableJobError(f"{type(exc).__name__}: {exc}") from exc
            raise

    wrapper.retries_retryable = True  # tests/jobs/test_retry.py: every adapter-calling task has it
    return wrapper


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed run: base, 2×base, 4×base… capped."""
    seconds = settings.JOBS_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    return dt.timedelta(seconds=min(seconds, settings.JOBS_RETRY_MAX_SECONDS))


RETRYABLE_PATH = f"{RetryableJobError.__module__}.{RetryableJobError.__qualname__}"


def on_task_finished(sender, task_result, **kwargs) -> None:
    from django_tasks_db.models import DBTaskResult

    if task_result.status != "FAILED" or not task_result.errors:
        return
    if task_result.errors[-1].exception_class_path != RETRYABLE_PATH:
        return
    attempts = len(task_result.worker_ids)
    if attempts >= settings.JOBS_MAX_ATTEMPTS:
        logger.error("job %s failed for good after %d runs", task_result.id, attempts)
        return
    run_after = task_result.finished_at + backoff(attempts)
    DBTaskResult.objects.filter(pk=task_result.id, status="FAILED").update(status="READY", run_after=run_after, finished_at=None)
    logger.warning("job %s will run again after %s (run %d failed with a retryable error)", task_result.id, run_after, attempts)
