"""A worker killed with kill -9 in the middle of a job: another worker picks the job up
again and it finishes, with no step done twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shebao.common.models import IdempotencyKey
from shebao.jobs.models import WorkerHeartbeat
from shebao.jobs.recovery import recover_lost_jobs
from tests.concurrency import database_url, wait_for
from tests.jobs import sample_tasks

ROOT = Path(__file__).resolve().parents[2]


def _worker(worker_id: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", "jobs_worker", "--no-reload", "--no-schedule", "--no-startup-delay",
                             "--interval", "0.1", "--housekeeping-every", "0.2", f"--worker-id={worker_id}", "-v0"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.django_db(transaction=True)
def test_job_of_a_killed_worker_is_run_again_and_finishes_once(tmp_path):
    env = {**os.environ, "SHEBAO_ENV": "test", "DATABASE_URL": database_url(), "JOBS_WORKER_LOST_SECONDS": "1"}
    job_id = sample_tasks.two_steps.enqueue(str(tmp_path)).id

    first = _worker("first", env)
    second = None
    try:
        wait_for(lambda: (tmp_path / f"between-{first.pid}").exists(), "the first worker to be mid-job", deadline=90)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert DBTaskResult.objects.get(pk=job_id).status == "RUNNING"  # left so by the dead worker

        (tmp_path / "go").touch()
        second = _worker("second", env)
        job = wait_for(lambda: DBTaskResult.objects.filter(pk=job_id, status__in=["SUCCESSFUL", "FAILED"]).first(),
                        "the second worker to finish the job", deadline=90)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)

    assert (job.status, job.return_value, job.worker_ids) == ("SUCCESSFUL", "done", ["first", "second"]), job.traceback
    steps = dict(IdempotencyKey.objects.filter(scope=sample_tasks.SCOPE).values_list("key", "request_hash"))
    assert steps == {"step-1": str(first.pid), "step-2": str(second.pid)}


@pytest.mark.django_db
def test_a_job_of_a_live_worker_is_left_alone():
    now = timezone.now()
    long_ago = now - dt.timedelta(hours=1)
    job = DBTaskResult.objects.get(pk=sample_tasks.two_steps.enqueue("/nonexistent").id)
    job.claim("alive")
    DBTaskResult.objects.filter(pk=job.pk).update(started_at=long_ago)
    WorkerHeartbeat.objects.create(worker_id="alive", seen_at=now)

    assert recover_lost_jobs(now=now) == []
    WorkerHeartbeat.objects.filter(worker_id="alive").update(seen_at=long_ago)
    assert recover_lost_jobs(now=now) == [str(job.pk)]
    assert DBTaskResult.objects.get(pk=job.pk).status == "READY"
