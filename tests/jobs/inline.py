"""Running ready jobs inside a test's own transaction, with the library's own worker.

``db_worker --batch`` closes the connection between jobs, so it needs a transactional test;
most tests are not. ``run_ready_jobs`` claims each ready job as the worker loop does and
hands it to the library's ``Worker.run_task`` (the call, the success or failure record and
the ``task_finished`` signal that retries hang on), on the test's connection. The job tests
(tests/jobs) run real worker processes; this is for the tests of what a job does.
"""

from __future__ import annotations

from django.db import transaction
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def run_ready_jobs(*, task=None, limit: int = 200) -> int:
    """Run the jobs ready now (of ``task`` only, when given) until none is left; how many ran."""
    worker = Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=None, worker_id="test-inline", excluded_queue_names=[])
    ran = 0
    while ran < limit:
        ready = DBTaskResult.objects.ready().filter(backend_name="default")
        if task is not None:
            ready = ready.filter(task_path=task.module_path)
        with transaction.atomic():
            job = ready.get_locked()
            if job is None:
                return ran
            job.claim(worker.worker_id)
        worker.run_task(job)
        ran += 1
    raise AssertionError(f"still jobs ready after {limit} runs: a job that re-enqueues itself?")


def send_queued_sms() -> int:
    """Send every SMS waiting for its job (codes and notices)."""
    from shebao.accounts.tasks import send_sms_code, send_sms_notice

    return run_ready_jobs(task=send_sms_code) + run_ready_jobs(task=send_sms_notice)
