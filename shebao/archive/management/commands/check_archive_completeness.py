"""``manage.py check_archive_completeness``: every completed business has exactly one archive record."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shebao.archive.completeness import RULES, archive_completeness


class Command(BaseCommand):
    help = "核对资料归档的完整性：每笔已完成的业务（实名注册、信息维护、缴费）恰有一条归档记录（REQUIREMENTS §6）。"

    def handle(self, *args: Any, **options: Any) -> None:
        gaps = archive_completeness()
        names = "、".join(str(kind.label) for kind in RULES)
        if not gaps:
            self.stdout.write(f"归档完整性核对通过：{names}")
            return
        for gap in gaps:
            self.stdout.write(str(gap))
        raise CommandError(f"归档完整性核对失败：{len(gaps)} 笔业务的归档记录不符")
