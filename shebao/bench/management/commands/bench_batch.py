"""``manage.py bench_batch``: build and execute a batch deduction of N items on PostgreSQL
against the bank simulator on loopback; prints items/s for each phase and peak memory
(shebao.bench.batch; docs/performance.md "Batch deduction").

Runs on a fresh database ``<name>_batch_<random>`` created on the configured PostgreSQL
server (loopback only), migrated, and dropped at the end. Nothing asserts a timing."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from shebao.bench import batch

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Command(BaseCommand):
    help = "压力测试：批量扣款清册生成与执行（回环地址上的银行模拟器），输出每秒处理条数和内存峰值（docs/performance.md）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--items", type=int, default=100_000, help="residents on the pending list (default 100000)")
        parser.add_argument("--workers", type=int, default=2, help="execution worker processes (default 2)")
        parser.add_argument("--execute", type=int, default=None, help="deduct only the first chunks covering this many items")
        parser.add_argument("--profile", action="store_true", help="profile the first worker (cProfile, top 45 by cumulative time)")
        parser.add_argument("--json", dest="json_path", help="also write the figures to this JSON file")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("bench_batch 只用于开发或测试环境，不能在生产环境运行")
        if not (1 <= opts["items"] <= 2_000_000 and 1 <= opts["workers"] <= 32):
            raise CommandError("1 ≤ --items ≤ 2000000, 1 ≤ --workers ≤ 32")
        if connection.vendor != "postgresql" or (connection.settings_dict["HOST"] or "127.0.0.1") not in LOOPBACK:
            raise CommandError("bench_batch 需要回环地址上的 PostgreSQL（DATABASE_URL=postgres://…@127.0.0.1:5432/…）")
        name = f"{connection.settings_dict['NAME']}_batch_{secrets.token_hex(4)}"
        connection.settings_dict.setdefault("TEST", {})["NAME"] = name
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self.stdout.write(f"database {name}; {opts['items']} items; {opts['workers']} workers")
            result = batch.run(items=opts["items"], workers=opts["workers"], execute=opts["execute"], log=self.stdout.write,
                               profile=opts["profile"])
        finally:
            connection.close()
            connection.creation.destroy_test_db(old_name, verbosity=0)
        if opts["json_path"]:
            with open(opts["json_path"], "w", encoding="utf-8") as handle:
                json.dump(result, handle, indent=2)
