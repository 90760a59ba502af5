"""A batch deduction worker killed (SIGKILL) in the middle of a chunk, while the bank has
taken the money of an item and not answered yet: a second worker resumes the job's chunk
and finishes the task, and the bank holds one deduction per idempotency key — nobody is
deducted twice (following tests/jobs/test_kill_recovery.py)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from shebao.adapters.bank.sim_store import read_store
from shebao.agreements import batch_services
from shebao.agreements.batch_models import BatchDeductionItem, BatchDeductionTask, BatchItemState, BatchTaskState
from shebao.bench.batch_population import BALANCE_FEN, residents_on_batch
from tests import actors
from tests.agreements.batch_helpers import PENSION, operator
from tests.concurrency import database_url, wait_for

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 6


def _worker(worker_id: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", "jobs_worker", "--no-reload", "--no-schedule", "--no-startup-delay",
                             "--interval", "0.1", "--housekeeping-every", "0.2", f"--worker-id={worker_id}", "-v0"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _killed_mid_item(bank_state: Path) -> bool:
    """An item succeeded, and another one the bank has deducted is still ``deducting`` here."""
    in_flight = set(BatchDeductionItem.objects.filter(state=BatchItemState.DEDUCTING).values_list("idempotency_key", flat=True))
    taken = {row["tra_no"] for row in read_store(bank_state, "deductions")}
    return BatchDeductionItem.objects.filter(state=BatchItemState.SUCCEEDED).exists() and bool(in_flight & taken)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_chunk_deducts_nobody_twice(demo_people, sims, settings):
    settings.BATCH_WORKERS_PER_TASK = 1
    bank_state = sims.state_dir / "bank.sqlite3"
    now = timezone.now()
    residents_on_batch(start=0, count=PEOPLE, city_code="450100", insurance_type_code=PENSION, year=2026, bank_state=bank_state,
                       now=now)
    task = batch_services.batch_task_create(actor=actors.staff(operator()), insurance_type_code=PENSION, contribution_year=2026,
                                            city_code="450100", deduction_on=now.date() + dt.timedelta(days=3), now=now)
    task = batch_services.batch_task_build(task_id=task.pk, now=now)
    assert (task.item_count, task.chunk_count) == (PEOPLE, 1)
    sims.control("bank", mode="timeout", delay_seconds=2)  # the bank deducts, then answers late
    env = {**os.environ, "SHEBAO_ENV": "test", "DATABASE_URL": database_url(), "JOBS_WORKER_LOST_SECONDS": "1",
           "BANK_BASE_URL": f"{sims.url}/sim/bank", "BANK_TIMEOUT_SECONDS": "30"}
    batch_services.batch_task_start(task=task, now=now)

    first = _worker("first", env)
    second = None
    try:
        wait_for(lambda: _killed_mid_item(bank_state), "the first worker to be waiting on the bank mid-chunk", deadline=90)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        sims.control("bank", mode="ok")
        left = BatchDeductionItem.objects.exclude(state=BatchItemState.SUCCEEDED).count()
        second = _worker("second", env)
        wait_for(lambda: BatchDeductionTask.objects.filter(pk=task.pk, state=BatchTaskState.DONE).exists(),
                 "the second worker to finish the task", deadline=120)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)

    items = list(BatchDeductionItem.objects.order_by("pk"))
    deductions = read_store(bank_state, "deductions")
    assert 1 <= left < PEOPLE  # killed with some done and some not
    assert [i.state for i in items] == [BatchItemState.SUCCEEDED] * PEOPLE
    assert sorted(d["tra_no"] for d in deductions) == sorted(i.idempotency_key for i in items)  # one per key
    balances = {a["account_no"]: a["balance_fen"] for a in read_store(bank_state, "accounts")}
    assert all(balances[d["account_no"]] == BALANCE_FEN - d["amount_fen"] for d in deductions)  # taken once
    assert len({i.tax_receipt_no for i in items}) == PEOPLE
