"""A job enqueued with its business write commits or rolls back with it (the database
backend's enqueue is an INSERT on the same connection, inside the same transaction)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from shebao.common import clock
from shebao.common.models import IdempotencyKey
from shebao.jobs import tasks

pytestmark = pytest.mark.django_db(transaction=True)


class _Abort(Exception):
    pass


def _write_and_enqueue(key: str) -> None:
    IdempotencyKey.objects.create(scope="test", key=key, request_hash="h", created_at=clock.now())
    tasks.purge_expired.enqueue()


def test_rolled_back_write_enqueues_nothing():
    with pytest.raises(_Abort), transaction.atomic():
        _write_and_enqueue("rolled-back")
        assert DBTaskResult.objects.count() == 1  # visible inside the transaction
        raise _Abort

    assert IdempotencyKey.objects.filter(key="rolled-back").count() == 0
    assert DBTaskResult.objects.count() == 0


def test_committed_write_enqueues_exactly_one_job_which_a_worker_runs(run_queue):
    with transaction.atomic():
        _write_and_enqueue("committed")

    assert IdempotencyKey.objects.filter(key="committed").count() == 1
    job = DBTaskResult.objects.get()
    assert (job.task_path, job.status) == ("shebao.jobs.tasks.purge_expired", "READY")

    run_queue()

    job.refresh_from_db()
    assert job.status == "SUCCESSFUL"
    assert job.return_value == {"sms_challenges": 0, "sms_notices": 0, "sessions": 0, "idempotency_keys": 0, "periodic_runs": 0}  # the fresh key is kept
