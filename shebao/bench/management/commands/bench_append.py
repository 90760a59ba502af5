"""``manage.py bench_append``: the audit log and archive append path under 1, 4 and 16
concurrent threads against an interleaved one-INSERT baseline, and the sealer's throughput
(shebao.bench.append; docs/performance.md "Locks").

Runs on a fresh database ``<name>_append_<random>`` created on the configured PostgreSQL
server (loopback only), migrated, and dropped at the end. Bounded in time (rounds × thread
counts × 2 windows) and in count (``--max-per-window``, ``--backlog``). Nothing asserts a timing."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from shebao.bench import append

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Command(BaseCommand):
    help = "压力测试：审计日志与资料归档的追加（无全局锁）在 1/4/16 个并发线程下与单条 INSERT 基线交替测量，并测签名任务的吞吐（docs/performance.md）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--threads", default="1,4,16", help="thread counts, comma-separated (default 1,4,16)")
        parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of (baseline, append) per thread count (default 3)")
        parser.add_argument("--seconds", type=float, default=5.0, help="seconds of each window (default 5)")
        parser.add_argument("--max-per-window", type=int, default=50_000, help="at most this many transactions per window (default 50000)")
        parser.add_argument("--backlog", type=int, default=20_000, help="unsealed entries per log for the sealer (default 20000)")
        parser.add_argument("--locked", action="store_true",
                            help="also a third window per round: the same appends behind one shared, locked head row (the design before the sealer)")
        parser.add_argument("--json", dest="json_path", help="also write the figures to this JSON file")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("bench_append 只用于开发或测试环境，不能在生产环境运行")
        threads = [int(x) for x in opts["threads"].split(",") if x.strip()]
        if not (threads and all(1 <= n <= 64 for n in threads) and 1 <= opts["rounds"] <= 20 and 0.5 <= opts["seconds"] <= 120
                and 1 <= opts["max_per_window"] <= 10**6 and 0 <= opts["backlog"] <= 200_000):
            raise CommandError("1 ≤ --threads ≤ 64, 1 ≤ --rounds ≤ 20, 0.5 ≤ --seconds ≤ 120, --max-per-window ≤ 1000000, --backlog ≤ 200000")
        if connection.vendor != "postgresql" or (connection.settings_dict["HOST"] or "127.0.0.1") not in LOOPBACK:
            raise CommandError("bench_append 需要回环地址上的 PostgreSQL（DATABASE_URL=postgres://…@127.0.0.1:5432/…）")
        name = f"{connection.settings_dict['NAME']}_append_{secrets.token_hex(4)}"
        connection.settings_dict.setdefault("TEST", {})["NAME"] = name
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self.stdout.write(f"database {name}; threads {threads}; {opts['rounds']} rounds × (baseline, append) × {opts['seconds']} s")
            result = append.run_all(thread_counts=threads, rounds=opts["rounds"], seconds=opts["seconds"],
                                    max_per_window=opts["max_per_window"], backlog=opts["backlog"], locked=opts["locked"])
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        self.stdout.write(append.render(result))
        if opts["json_path"]:
            figures = {"threads": append.summarise(result), "sealer": result["sealer"], "pending": result["pending"]}
            with open(opts["json_path"], "w", encoding="utf-8") as handle:
                json.dump(figures, handle, indent=2)
