"""The append path of the audit log and archive without a lock, measured (``manage.py
bench_append``; docs/performance.md "Locks").

A **payment-like transaction** is what crediting a payment does to the two logs: one
``archive_append`` and one ``audit_record`` (the real services) inside one
``transaction.atomic()``, committed. The **baseline** is the same transaction shape with one
plain INSERT into a trivial table (``bench_plain``: an id and an integer). For each thread
count, ``rounds`` × (baseline window, append window) run interleaved in the same minutes
(/work/shared/reference/stack-baseline.md): all threads start a window together, each
commits transactions until the window's end (or its share of the count bound), the one in
hand at the end is not counted. **tx/s** = transactions committed in the window ÷ the
window's length; **ratio** = baseline tx/s ÷ append tx/s over all rounds of a thread count
(1/throughput is the cost of a transaction when the threads keep the machine busy).

The **sealer** is then timed on a backlog of unsealed entries per log (what the append
windows left, topped up to ``backlog``): ``seal_pending`` until none is left, entries/s.

All threads share one process (and its GIL), as a gunicorn worker's threads do; the
database is PostgreSQL on loopback. The audit log line is not written (the logger
``shebao.audit`` is raised to WARNING), so a window measures the database work, not stdout.
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction

from shebao.archive.services import archive_append, seal_pending
from shebao.audit.models import AuditEvent
from shebao.audit.services import audit_record
from shebao.common import clock
from shebao.common.actor import Actor

KINDS = ("baseline", "append")
PLAIN_TABLE = "bench_plain"
HEAD_TABLE = "bench_head"


def plain_table_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {PLAIN_TABLE} (id bigserial PRIMARY KEY, n integer NOT NULL)")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {HEAD_TABLE} (id integer PRIMARY KEY, n bigint NOT NULL)")
        cursor.execute(f"INSERT INTO {HEAD_TABLE} (id, n) VALUES (1, 0) ON CONFLICT DO NOTHING")


def baseline_tx(n: int) -> None:
    """The baseline: one plain INSERT, committed."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {PLAIN_TABLE} (n) VALUES (%s)", [n])


def payment_snapshot(n: int) -> dict:
    """A payment's electronic data, the size of the real one (synthetic values)."""
    return {
        "bill": f"bill_bench_{n}",
        "payer": f"payer_bench_{n}",
        "period": "202603",
        "insurance": ["110", "310"],
        "base_amount": Decimal("4500.00"),
        "fee_amount": Decimal("1372.50"),
        "channel": "wechatpay",
        "out_trade_no": f"SB{n:020d}",
        "paid_at": clock.now(),
    }


def append_tx(n: int) -> None:
    """What crediting a payment writes to the two logs: one archive record, one audit event."""
    now = clock.now()
    with transaction.atomic():
        archive_append(business_type="payment", business_ref=f"pay-bench-{n}", subject_ref=f"acct_bench_{n % 997}",
                       data=payment_snapshot(n), now=now)
        audit_record(actor=Actor.system("bench_append"), action="fees.payment.credited", subject_type="bill",
                     subject_ref=f"bill_bench_{n}", now=now)


def locked_tx(n: int) -> None:
    """The design before the sealer, for comparison: the same two appends with one shared
    head row locked first and updated last (every payer in one line until commit)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT n FROM {HEAD_TABLE} WHERE id = 1 FOR UPDATE")
        append_tx(n)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {HEAD_TABLE} SET n = n + 1 WHERE id = 1")


_TX = {"baseline": baseline_tx, "append": append_tx, "locked": locked_tx}


@dataclass
class Window:
    kind: str
    threads: int
    seconds: float
    committed: int = 0
    capped: bool = False  # a thread reached its share of the count bound before the end
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.committed / self.seconds


class _Crew:
    """``n`` threads that keep their database connections across windows and start each
    window together (a barrier), so connection set-up is never inside a window."""

    def __init__(self, n: int, windows: list[Window], max_per_thread: int):
        self.windows, self.max_per_thread = windows, max_per_thread
        self.barrier = threading.Barrier(n + 1)
        self.deadline = 0.0
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()
        self.counter = iter(range(10**12))
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(n)]

    def _next(self) -> int:
        with self.lock:
            return next(self.counter)

    def _work(self) -> None:
        try:
            _TX["baseline"](self._next())  # connect outside any window
            for window in self.windows:
                self.barrier.wait()
                done, latencies = 0, []
                while done < self.max_per_thread:
                    start = time.monotonic()
                    _TX[window.kind](self._next())
                    end = time.monotonic()
                    if end > self.deadline:
                        break
                    done += 1
                    latencies.append((end - start) * 1000)
                with self.lock:
                    window.capped |= done >= self.max_per_thread
                    window.committed += done
                    window.latencies_ms.extend(latencies)
                self.barrier.wait()
        except BaseException as exc:  # reported by run()
            self.errors.append(exc)
            self.barrier.abort()
        finally:
            connection.close()

    def run(self) -> None:
        for thread in self.threads:
            thread.start()
        try:
            for window in self.windows:
                self.deadline = time.monotonic() + window.seconds
                self.barrier.wait(timeout=60)
                self.barrier.wait(timeout=window.seconds + 60)
        except threading.BrokenBarrierError:
            pass
        for thread in self.threads:
            thread.join(timeout=60)
        if self.errors:
            raise self.errors[0]


def measure_appends(*, threads: int, rounds: int, seconds: float, max_per_window: int, kinds: tuple[str, ...] = KINDS) -> list[Window]:
    """``rounds`` × (baseline, append) windows of ``seconds`` with ``threads`` threads."""
    windows = [Window(kind, threads, seconds) for _ in range(rounds) for kind in kinds]
    _Crew(threads, windows, max_per_thread=max(1, max_per_window // threads)).run()
    return windows


def top_up(backlog: int) -> int:
    """Append until each log has ``backlog`` unsealed entries (transactions of 100 payments)."""
    n = 10**9
    while (missing := backlog - AuditEvent.objects.filter(seq__isnull=True).count()) > 0:
        with transaction.atomic():
            for _ in range(min(100, missing)):
                n += 1
                append_tx(n)
    return AuditEvent.objects.filter(seq__isnull=True).count()


def measure_sealer(kind: str) -> dict:
    """Seal the whole backlog of one log; entries, seconds and entries/s."""
    start = time.monotonic()
    sealed = seal_pending(kind)
    elapsed = time.monotonic() - start
    return {"log": kind, "sealed": sealed, "seconds": elapsed, "per_second": sealed / elapsed if elapsed else math.inf}


def run_all(*, thread_counts: list[int], rounds: int, seconds: float, max_per_window: int, backlog: int,
            locked: bool = False) -> dict:
    """The whole benchmark on the current database (migrated, PostgreSQL): appends per thread
    count (with ``locked``, also the old design's shared head row), then the sealer."""
    audit_logger = logging.getLogger("shebao.audit")
    level = audit_logger.level
    audit_logger.setLevel(logging.WARNING)
    kinds = (*KINDS, "locked") if locked else KINDS
    try:
        plain_table_create()
        appends = {n: measure_appends(threads=n, rounds=rounds, seconds=seconds, max_per_window=max_per_window, kinds=kinds)
                   for n in thread_counts}
        pending = top_up(backlog)
        sealer = [measure_sealer(kind) for kind in ("archive", "audit")]
    finally:
        audit_logger.setLevel(level)
    return {"appends": appends, "pending": pending, "sealer": sealer}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


def summarise(result: dict) -> dict:
    """Per thread count: each kind's tx/s over all rounds and p50/p99 ms; per kind but the
    baseline, its ratio (baseline tx/s ÷ its tx/s), each round's ratio and their median."""
    rows = {}
    for n, windows in result["appends"].items():
        kinds = {}
        for w in windows:
            kinds.setdefault(w.kind, []).append(w)
        row: dict = {"capped": any(w.capped for w in windows)}
        for k, ws in kinds.items():
            latencies = [x for w in ws for x in w.latencies_ms]
            row[k] = {"tx_s": sum(w.committed for w in ws) / sum(w.seconds for w in ws),
                      "p50_ms": _pct(latencies, 50), "p99_ms": _pct(latencies, 99)}
        for k in kinds:
            if k != "baseline":
                rounds = [b.rate / w.rate if w.committed else math.inf for b, w in zip(kinds["baseline"], kinds[k], strict=True)]
                row[k].update(ratio=row["baseline"]["tx_s"] / row[k]["tx_s"] if row[k]["tx_s"] else math.inf,
                              round_ratios=rounds, median_ratio=statistics.median(rounds))
        rows[n] = row
    return rows


def render(result: dict) -> str:
    rows = summarise(result)
    lines = ["threads  kind      tx/s   p50 ms   p99 ms  ratio  median  round ratios"]
    for n, row in rows.items():
        for k in ("baseline", "append", "locked"):
            if k not in row:
                continue
            r = row[k]
            ratios = (f"{r['ratio']:>5.2f}  {r['median_ratio']:>6.2f}  " + " ".join(f"{x:.2f}" for x in r["round_ratios"])) if "ratio" in r else ""
            lines.append(f"{n:>7}  {k:<8} {r['tx_s']:>5.0f}  {r['p50_ms']:>7.2f}  {r['p99_ms']:>7.2f}  {ratios}")
        if row["capped"]:
            lines.append("         (count bound reached: tx/s understated)")
    top = max(rows)
    peak = rows[top]["append"]["tx_s"]
    lines.append(f"sealer, backlog {result['pending']} entries per log, against {peak:.0f} append tx/s with {top} threads:")
    for s in result["sealer"]:
        lines.append(f"  {s['log']:<8} {s['sealed']:>6} sealed in {s['seconds']:.2f} s = {s['per_second']:.0f} entries/s"
                     f" ({s['per_second'] / peak:.2f}× that append rate)")
    return "\n".join(lines)
