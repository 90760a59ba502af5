"""``manage.py bench_notices``: the login overhead of notices with 0 and with N live notices,
as a ratio to an interleaved baseline (the same page without the notices' look-up);
shebao.bench.notices, docs/performance.md "Notices at login".

Runs on a fresh test database (created, migrated and dropped here: SQLite in a temporary
file, or a new database on the configured loopback PostgreSQL server). Bounded in count:
rounds × 2 windows × requests per window. Nothing asserts a timing."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from shebao.bench import notices

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Command(BaseCommand):
    help = "压力测试：登录时通知公告的额外开销（0 条与 N 条有效通知），与交替测量的基线（不查通知的同一页面）相比（docs/performance.md）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--notices", type=int, default=1000, help="live notices in the second phase (default 1000)")
        parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of (baseline, notices) per phase (default 5)")
        parser.add_argument("--requests", type=int, default=200, help="requests per window (default 200)")
        parser.add_argument("--other-readers", type=int, default=20_000,
                            help="other accounts that read five notices each, so the person's rows are found among many (default 20000)")
        parser.add_argument("--json", dest="json_path", help="also write the figures to this JSON file")

    def handle(self, *args: Any, **opts: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("bench_notices 只用于开发或测试环境，不能在生产环境运行")
        if not (1 <= opts["notices"] <= 20_000 and 1 <= opts["rounds"] <= 20 and 1 <= opts["requests"] <= 5000
                and 0 <= opts["other_readers"] <= 1_000_000):
            raise CommandError("1 ≤ --notices ≤ 20000, 1 ≤ --rounds ≤ 20, 1 ≤ --requests ≤ 5000, 0 ≤ --other-readers ≤ 1000000")
        if connection.vendor == "postgresql" and (connection.settings_dict["HOST"] or "127.0.0.1") not in LOOPBACK:
            raise CommandError("bench_notices 只连接回环地址上的 PostgreSQL")
        test_settings = connection.settings_dict.setdefault("TEST", {})
        if connection.vendor == "postgresql":
            test_settings["NAME"] = f"{connection.settings_dict['NAME']}_notices_{secrets.token_hex(4)}"
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self.stdout.write(f"database {connection.vendor}; {opts['notices']} live notices; {opts['rounds']} rounds × "
                              f"(baseline, notices) × {opts['requests']} requests; {opts['other_readers']} other readers")
            result = notices.run(notices=opts["notices"], rounds=opts["rounds"], requests=opts["requests"],
                                 other_readers=opts["other_readers"])
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        self.stdout.write(notices.render(result))
        if opts["json_path"]:
            with open(opts["json_path"], "w", encoding="utf-8") as handle:
                json.dump({"summary": notices.summarise(result), "statements": result["statements"]}, handle, indent=2, ensure_ascii=False)
