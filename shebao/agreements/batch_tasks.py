"""The batch deduction's jobs (shebao.agreements.batch_services, batch_exec): building a
task's list, executing it (any number of jobs share one task's chunks), and the periodic
ones — starting the tasks whose deduction date has come, the reminders before it, and the
watchdog. Each is safe to run again."""

from __future__ import annotations

try:  # Django 6: the framework is built in; the backport keeps the same API
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task

from shebao.common import clock
from shebao.jobs.retry import retry_retryable


@task()
@retry_retryable
def build_batch(task_id: int) -> int:
    """生成待批扣清册 (batch_services.batch_task_build): the number of items."""
    from shebao.agreements.batch_services import batch_task_build

    return batch_task_build(task_id=task_id, now=clock.now()).item_count


@task(takes_context=True)
@retry_retryable
def execute_batch(context, task_id: int) -> dict[str, int]:
    """One execution job (batch_exec.batch_task_execute); its chunks are held under the job's
    id, so a rerun after its worker died resumes them."""
    from shebao.agreements.batch_exec import batch_task_execute

    return batch_task_execute(task_id=task_id, job_ref=str(context.task_result.id))


@task()
@retry_retryable
def start_due_batches() -> list[int]:
    """Periodic: built tasks whose deduction date has come start (batch_services.batch_tasks_start_due)."""
    from shebao.agreements.batch_services import batch_tasks_start_due

    return batch_tasks_start_due(now=clock.now())


@task()
@retry_retryable
def send_batch_reminders() -> dict[str, int]:
    """Periodic: the SMS reminders a few days before a deduction date (batch_services.batch_reminders_send)."""
    from shebao.agreements.batch_services import batch_reminders_send

    return batch_reminders_send(now=clock.now())


@task()
@retry_retryable
def batch_watchdog() -> dict[str, int]:
    """Periodic: chunks of jobs that no longer run are re-queued (batch_exec.batch_watchdog)."""
    from shebao.agreements.batch_exec import batch_watchdog as watchdog

    return watchdog(now=clock.now())
