"""manage.py follow_refunds: what the periodic job ``follow_refunds`` does, once, now: the
embedded core decides the refunds that are due (退库) and the service takes every decision.

``--as-of`` (the embedded core, for demonstrations and the browser walk) decides as at a
later moment, e.g. the next 10:00 when the treasury runs; never earlier than now."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from shebao.common import clock
from shebao.refunds.services import refunds_follow_up


class Command(BaseCommand):
    help = "办理退费：内置核心对到期的退费申请作出退库结果，并更新退费申请状态"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="按此时间办理（ISO 8601，含时区，不早于当前时间），如 2026-12-05T10:05+08:00")

    def handle(self, *args, **opts):
        now = clock.now()
        if opts["as_of"]:
            try:
                at = dt.datetime.fromisoformat(opts["as_of"])
            except ValueError as exc:
                raise CommandError("--as-of 时间格式不正确，示例：2026-12-05T10:05+08:00") from exc
            if at.tzinfo is None or at < now:
                raise CommandError("--as-of 须含时区，且不早于当前时间")
            now = at
        done = refunds_follow_up(now=now)
        self.stdout.write(f"核心办结 {done['decided_at_core']} 笔，更新退费申请 {done['taken']} 笔")
