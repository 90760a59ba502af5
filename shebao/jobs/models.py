"""Periodic runs: one row per (task, period), inserted before the task is enqueued.

The unique constraint is what makes periodic work run once per period however many
workers (each with its scheduler) race for it: the first insert wins and enqueues the
job in the same transaction; every other one hits the constraint and enqueues nothing.
"""

from __future__ import annotations

from django.db import models


class PeriodicRun(models.Model):
    task_path = models.CharField(max_length=200)
    period_start = models.DateTimeField()
    enqueued_at = models.DateTimeField()
    result_id = models.CharField(max_length=64, blank=True)  # the django-tasks result of this period's run

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task_path", "period_start"], name="periodic_run_once_per_period")]
        ordering = ["-period_start"]

    def __str__(self) -> str:
        return f"{self.task_path} @ {self.period_start:%Y-%m-%d %H:%M}"


class WorkerHeartbeat(models.Model):
    """One row per ``jobs_worker`` process, touched every housekeeping round (also while
    the worker runs a long job: the rounds run in their own thread). A job left RUNNING by
    a worker whose heartbeat is older than ``JOBS_WORKER_LOST_SECONDS`` (killed with
    ``kill -9``, machine lost) is put back to READY by another worker (``recover_lost_jobs``)."""

    worker_id = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.seen_at:%H:%M:%S}"
