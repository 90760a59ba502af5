"""Worker heartbeats and the recovery of jobs whose worker died mid-job.

django-tasks-db marks a claimed job RUNNING with the worker's id and leaves it so if the
process dies (``kill -9``, out of memory, machine gone): nothing would ever run it again.
Every ``jobs_worker`` touches its heartbeat row each housekeeping round; a RUNNING job
whose last worker has not been seen for ``JOBS_WORKER_LOST_SECONDS`` is put back to READY
and the next free worker runs it from the start. Jobs are written to be run again safely
(each step checks the state it finds and commits on its own), so the rerun finishes the
work without doing any finished step twice.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django_tasks_db.models import DBTaskResult

from shebao.jobs.models import WorkerHeartbeat

RUNNING = "RUNNING"
READY = "READY"


def heartbeat(*, worker_id: str, now: dt.datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(worker_id=worker_id, defaults={"seen_at": now})


def recover_lost_jobs(*, now: dt.datetime) -> list[str]:
    """Put back to READY every RUNNING job whose worker is lost; the ids put back.

    The update is conditional on the job still being in the run we looked at (RUNNING
    since the same ``started_at``): a job another worker has claimed again meanwhile, or
    one that finished, is left alone."""
    lost_before = now - dt.timedelta(seconds=settings.JOBS_WORKER_LOST_SECONDS)
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=lost_before).values_list("worker_id", flat=True))
    recovered = []
    for job in DBTaskResult.objects.filter(status=RUNNING, started_at__lt=lost_before).only("id", "worker_ids", "started_at"):
        if job.worker_ids and job.worker_ids[-1] in alive:
            continue
        if DBTaskResult.objects.filter(pk=job.pk, status=RUNNING, started_at=job.started_at).update(status=READY, started_at=None):
            recovered.append(str(job.pk))
    return recovered
