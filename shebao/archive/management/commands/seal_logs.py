"""``manage.py seal_logs``: seal the committed entries of the archive and the audit log."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shebao.archive.integrity import SealError
from shebao.archive.services import SEAL_LOCK_KEYS, seal_pending


class Command(BaseCommand):
    help = "为已提交、未签名的归档与审计记录给出序号、链接 SM3 链并按批次 SM2 签名（同一时间只运行一个）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--kind", choices=sorted(SEAL_LOCK_KEYS), action="append", help="只处理这一个日志（可重复）；默认两个都处理")

    def handle(self, *args: Any, **options: Any) -> None:
        for kind in options["kind"] or ["archive", "audit"]:
            try:
                count = seal_pending(kind)
            except SealError as exc:
                raise CommandError(f"{kind}：{exc}") from exc
            self.stdout.write(f"{kind}：本次签名 {count} 条")
