"""Retryable adapter errors run the job again with backoff; final ones fail it with the reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shebao.common.models import IdempotencyKey
from shebao.jobs.retry import backoff
from tests.jobs import sample_tasks

pytestmark = pytest.mark.django_db(transaction=True)  # the worker loop closes connections between jobs


def _job(job_id) -> DBTaskResult:
    return DBTaskResult.objects.get(pk=job_id)


def _due_now(job_id) -> None:
    DBTaskResult.objects.filter(pk=job_id).update(run_after=timezone.now() - dt.timedelta(seconds=1))


@override_settings(JOBS_RETRY_BASE_SECONDS=30, JOBS_RETRY_MAX_SECONDS=100)
def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


@override_settings(JOBS_MAX_ATTEMPTS=3)
def test_retryable_error_runs_the_same_job_again_after_the_backoff(run_queue):
    job_id = sample_tasks.pay_call.enqueue("SYSTEMERROR", True).id
    run_queue()

    job = _job(job_id)
    assert job.status == "READY"
    assert job.run_after - job.started_at >= backoff(1)
    assert job.exception_class_path == "shebao.jobs.retry.RetryableJobError" and "渠道繁忙" in job.traceback
    run_queue()  # not due yet: nothing runs
    assert len(_job(job_id).worker_ids) == 1

    IdempotencyKey.objects.create(scope=sample_tasks.SCOPE, key="ok-SYSTEMERROR", request_hash="", created_at=timezone.now())
    _due_now(job_id)
    run_queue()
    job = _job(job_id)
    assert (job.status, job.return_value, len(job.worker_ids)) == ("SUCCESSFUL", "paid", 2)


@override_settings(JOBS_MAX_ATTEMPTS=2, JOBS_RETRY_BASE_SECONDS=30)
def test_retry_waits_the_backoff_and_stops_after_the_last_attempt(run_queue):
    job_id = sample_tasks.pay_call.enqueue("SYSTEMERROR", True).id
    run_queue()
    job = _job(job_id)
    assert job.status == "READY"
    assert job.run_after - job.started_at >= dt.timedelta(seconds=30)

    _due_now(job_id)
    run_queue()
    job = _job(job_id)
    assert (job.status, len(job.worker_ids)) == ("FAILED", 2)
    assert "RetryableJobError: PaymentError: 渠道繁忙" in job.traceback


def test_final_error_fails_at_once_with_the_reason(run_queue):
    job_id = sample_tasks.pay_call.enqueue("PARAM_ERROR", False).id
    run_queue()
    job = _job(job_id)
    assert (job.status, len(job.worker_ids)) == ("FAILED", 1)
    assert job.exception_class_path == "shebao.adapters.payment.port.PaymentError"
    assert "渠道繁忙" in job.traceback


# Tasks that call no adapter (no external system): the database only, nothing to retry.
NO_ADAPTER_TASKS = {
    "shebao.jobs.tasks.seal_logs", "shebao.jobs.tasks.purge_expired", "shebao.archive.tasks.export_signed_heads",
}


def _all_tasks():
    import importlib
    import pkgutil

    from django_tasks.base import Task

    import shebao

    for info in pkgutil.walk_packages(shebao.__path__, "shebao."):
        if info.name.endswith(".tasks"):
            module = importlib.import_module(info.name)
            yield from (value for value in vars(module).values() if isinstance(value, Task) and value.func.__module__ == info.name)


def test_every_task_that_calls_an_adapter_retries_retryable_errors():
    """A new task must choose: ``@retry_retryable`` (it calls a gateway, a channel or the core)
    or a place in NO_ADAPTER_TASKS."""
    tasks = {task.module_path: task for task in _all_tasks()}
    assert {"shebao.accounts.tasks.send_sms_code", "shebao.jobs.tasks.reconcile_day"} <= set(tasks)
    undecided = [path for path, task in tasks.items()
                 if not getattr(task.func, "retries_retryable", False) and path not in NO_ADAPTER_TASKS]
    assert undecided == []
    assert NO_ADAPTER_TASKS <= set(tasks)
