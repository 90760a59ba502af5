"""The batch deduction benchmark (``manage.py bench_batch``; docs/performance.md "Batch
deduction"): N synthetic residents on batch deduction (shebao.bench.batch_population), a
task built (items/s of ``batch_task_build``) and executed (items/s of the execution jobs,
``batch_exec.batch_task_execute`` in W worker processes sharing the chunks) against the bank
simulator in a process of its own on loopback — every deduction a real CFX message over HTTP,
answered from the simulator's SQLite — and the peak memory of each phase.

Nothing asserts a timing: the figures are printed, and written to JSON when asked."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections

CITY = "450100"
INSURANCE = "10210-RES"
YEAR = 2026


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _serve_bank(state: str, ready) -> None:
    from shebao.adapters.bank.simulator import make_bank_simulator
    from shebao.adapters.loopback import LoopbackServer

    server = LoopbackServer(make_bank_simulator(Path(state), accounts=[])).start()
    ready.put(server.url)
    while True:
        time.sleep(3600)


def _execute(task_id: int, job_ref: str, bank_url: str, done, profile: bool = False) -> None:
    import logging

    from shebao.agreements.batch_exec import batch_task_execute

    logging.disable(logging.INFO)  # one log line per bank call is not what is measured
    settings.BANK = {**settings.BANK, "BASE_URL": bank_url}
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        counts = profiler.runcall(batch_task_execute, task_id=task_id, job_ref=job_ref)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    else:
        counts = batch_task_execute(task_id=task_id, job_ref=job_ref)
    connections.close_all()
    done.put((counts, _peak_mb()))


def populate(*, count: int, bank_state: Path, now: dt.datetime) -> float:
    from shebao.bench.batch_population import residents_on_batch

    started = time.perf_counter()
    residents_on_batch(start=0, count=count, city_code=CITY, insurance_type_code=INSURANCE, year=YEAR, bank_state=bank_state, now=now)
    if connection.vendor == "postgresql":  # as autovacuum would have by now: the planner needs the tables' sizes
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def run(*, items: int, workers: int, execute: int | None, log=print, profile: bool = False) -> dict[str, Any]:
    """Populate, build, execute; the figures. ``execute`` limits how many items are deducted
    (the first chunks; None: all of them)."""
    from django.core.management import call_command

    from shebao.accounts.models import Account
    from shebao.agreements import batch_services
    from shebao.agreements.batch_models import BatchChunkState, BatchDeductionChunk
    from shebao.common.actor import Actor

    call_command("seed_demo", "--no-people", stdout=open("/dev/null", "w"))  # noqa: SIM115 - closed with the process
    now = dt.datetime.now(dt.UTC)
    state = Path(tempfile.mkdtemp(prefix="bench-batch-")) / "bank.sqlite3"
    seconds = populate(count=items, bank_state=state, now=now)
    log(f"population: {items} residents in {seconds:.1f} s")

    staff = Account.objects.create_superuser("bench-batch", "Bench@2026x", created_at=now)
    task = batch_services.batch_task_create(actor=Actor.staff(staff), insurance_type_code=INSURANCE, contribution_year=YEAR,
                                            city_code=CITY, deduction_on=now.date() + dt.timedelta(days=3), now=now)
    started = time.perf_counter()
    task = batch_services.batch_task_build(task_id=task.pk, now=now)
    build_seconds = time.perf_counter() - started
    build_peak = _peak_mb()
    log(f"build: {task.item_count} items in {build_seconds:.2f} s = {task.item_count / build_seconds:,.0f} items/s; peak RSS {build_peak:.0f} MB")

    chunk = settings.BATCH_CHUNK_SIZE
    if execute is not None and execute < task.item_count:  # only the first chunks are deducted: the rest marked done beforehand
        BatchDeductionChunk.objects.filter(task=task, chunk_no__gte=(execute + chunk - 1) // chunk).update(state=BatchChunkState.DONE)
    deducted = min(task.item_count, ((execute + chunk - 1) // chunk) * chunk if execute is not None else task.item_count)
    task = batch_services.batch_task_start(task=task, now=now, workers=workers)

    fork = multiprocessing.get_context("fork")
    ready, done = fork.Queue(), fork.Queue()
    connections.close_all()
    bank = fork.Process(target=_serve_bank, args=(str(state), ready), daemon=True)
    bank.start()
    bank_url = ready.get(timeout=60)
    started = time.perf_counter()
    procs = [fork.Process(target=_execute, args=(task.pk, f"bench-{n}", bank_url, done, profile and n == 0)) for n in range(workers)]
    for proc in procs:
        proc.start()
    results = [done.get(timeout=24 * 3600) for _ in procs]
    exec_seconds = time.perf_counter() - started
    for proc in procs:
        proc.join(timeout=60)
    bank.terminate()
    counts: dict[str, int] = {}
    for worker_counts, _ in results:
        for key, n in worker_counts.items():
            counts[str(key)] = counts.get(str(key), 0) + n
    exec_peak = max(peak for _, peak in results)
    log(f"execute: {sum(counts.values())} items ({counts}) by {workers} workers in {exec_seconds:.2f} s = "
        f"{sum(counts.values()) / exec_seconds:,.0f} items/s; peak RSS per worker {exec_peak:.0f} MB")
    return {"items": task.item_count, "build_seconds": round(build_seconds, 3), "build_per_second": round(task.item_count / build_seconds),
            "build_peak_mb": round(build_peak), "executed": sum(counts.values()), "planned": deducted, "counts": counts,
            "workers": workers, "exec_seconds": round(exec_seconds, 3),
            "exec_per_second": round(sum(counts.values()) / exec_seconds), "exec_peak_mb": round(exec_peak)}
