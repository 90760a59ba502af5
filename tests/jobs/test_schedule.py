"""Periodic work runs once per period however many schedulers race for it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from shebao.jobs.models import PeriodicRun
from shebao.jobs.schedule import PERIODIC, schedule_due

ROOT = Path(__file__).resolve().parents[2]
PATHS = sorted(p.path for p in PERIODIC)
T0 = dt.datetime(2026, 3, 2, 1, 0, 10, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_one_run_per_task_and_period():
    sealer = "shebao.jobs.tasks.seal_logs"  # every 10 s: a new period at each of the later instants

    def without_sealer(paths):
        return [p for p in paths if p != sealer]

    assert sorted(schedule_due(now=T0)) == PATHS
    assert schedule_due(now=T0 + dt.timedelta(minutes=3)) == [sealer]  # the same periods for all the others
    assert without_sealer(schedule_due(now=T0 + dt.timedelta(minutes=5))) == [  # the next 5 minutes
        "shebao.jobs.tasks.close_stale_payments", "shebao.fees.tasks.refund_charged_payments", "shebao.jobs.tasks.advance_treasury_states",
        "shebao.refunds.tasks.follow_refunds", "shebao.agreements.tasks.check_pending_agreements",
        "shebao.agreements.batch_tasks.start_due_batches", "shebao.agreements.batch_tasks.batch_watchdog"]
    assert schedule_due(now=T0 + dt.timedelta(minutes=5, seconds=1)) == []  # the sealer's period too
    assert PeriodicRun.objects.count() == len(PATHS) + 2 + 7
    assert DBTaskResult.objects.count() == len(PATHS) + 2 + 7
    assert set(PeriodicRun.objects.values_list("result_id", flat=True)) == {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)}


def test_periods_start_on_the_same_instants_everywhere():
    sweep = next(p for p in PERIODIC if p.path.endswith("close_stale_payments"))
    assert sweep.period_start(T0 + dt.timedelta(minutes=4, seconds=49)) == dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    assert sweep.period_start(T0.astimezone(dt.timezone(dt.timedelta(hours=8)))) == dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def test_reconciliation_runs_daily_from_1030_shanghai_for_the_day_before():
    daily = next(p for p in PERIODIC if p.path.endswith("reconcile_day"))
    shanghai = dt.timezone(dt.timedelta(hours=8))
    start = daily.period_start(dt.datetime(2026, 3, 3, 11, 0, tzinfo=shanghai))
    assert start == dt.datetime(2026, 3, 3, 10, 30, tzinfo=shanghai)
    assert daily.kwargs(start) == {"day": "2026-03-02"}
    assert daily.period_start(dt.datetime(2026, 3, 3, 10, 29, tzinfo=shanghai)) == dt.datetime(2026, 3, 2, 10, 30, tzinfo=shanghai)


@pytest.mark.django_db
def test_the_reconciliation_job_carries_its_day():
    schedule_due(now=T0)
    job = DBTaskResult.objects.get(task_path="shebao.jobs.tasks.reconcile_day")
    assert job.args_kwargs == {"args": [], "kwargs": {"day": "2026-02-28"}}  # 09:00 Shanghai 3-2: the 3-1 10:30 period


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_schedulers_enqueue_each_period_once():
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL's concurrent inserts on a unique index; the database here is {connection.vendor}")
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    enqueued: list[str] = []

    def scheduler() -> None:
        try:
            barrier.wait(timeout=30)
            enqueued.extend(schedule_due(now=T0))
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(enqueued) == PATHS
    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == PATHS


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = f"{s['USER']}:{s['PASSWORD']}" if s.get("PASSWORD") else s["USER"]
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_run_each_periodic_task_once():
    """Two real ``jobs_worker`` processes, each scheduling every 0.2 s: after each has done
    several rounds, each periodic task was enqueued and run exactly once."""
    env = {**os.environ, "SHEBAO_ENV": "test", "DATABASE_URL": _database_url()}
    rounds = {0: 0, 1: 0}
    lines: list[str] = []
    started = timezone.now()
    procs = [subprocess.Popen([sys.executable, "manage.py", "jobs_worker", "--no-reload", "--housekeeping-every", "0.2", "--interval", "0.2",
                               "-v2", f"--worker-id=w{n}"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for n in (0, 1)]

    def read(n: int) -> None:
        for line in procs[n].stdout:
            lines.append(line)
            if "housekeeping round done" in line:
                rounds[n] += 1

    readers = [threading.Thread(target=read, args=(n,), daemon=True) for n in (0, 1)]
    for reader in readers:
        reader.start()
    try:
        end = time.monotonic() + 90
        while time.monotonic() < end:
            ran = sum(1 for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) if ids)
            if min(rounds.values()) >= 5 and ran >= len(PATHS):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"timed out: rounds={rounds}\n{''.join(lines[-40:])}")
    finally:
        stopping = timezone.now()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    stopped = timezone.now()

    # One run per task and period: the test may cross a period boundary (a 5-minute one),
    # also while the workers stop (then the new period may or may not have been enqueued).
    for item in PERIODIC:
        first = item.period_start(started)

        def upto(moment: dt.datetime, item=item, first=first) -> list[dt.datetime]:
            return [first + n * item.every for n in range(int((moment - first) / item.every) + 1)]

        expected = upto(stopped)
        periods = sorted(PeriodicRun.objects.filter(task_path=item.path).values_list("period_start", flat=True))
        if item.every < dt.timedelta(minutes=1):
            # the sealer's 10-s periods: a period that passed while both workers were still
            # starting (or stalled on a loaded machine) has no run; none has two
            assert periods and set(periods) <= set(expected) and len(set(periods)) == len(periods), (item.path, periods, expected)
        else:
            assert periods in (upto(stopping), expected), (item.path, periods, expected)
        assert DBTaskResult.objects.filter(task_path=item.path).count() == len(periods), item.path
    # Each job run at most once (the reconciliation waits for a retry: no payment channel runs here).
    assert all(len(ids) <= 1 for ids in DBTaskResult.objects.values_list("worker_ids", flat=True))
    ran = DBTaskResult.objects.exclude(task_path__endswith="reconcile_day").exclude(worker_ids=[])
    assert set(ran.values_list("status", flat=True)) == {"SUCCESSFUL"}, "".join(lines[-40:])
