"""``manage.py verify_archive``: check the archive's digests, chain and signatures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shebao.archive.verify import verify_archive


class Command(BaseCommand):
    help = "校验资料归档：重算每条快照摘要、链哈希，校验每个签名批次的默克尔根与 SM2 签名；报告等待签名的条数（REQUIREMENTS §6）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--heads", type=Path, metavar="FILE",
            help="外部保存的签名头文件（export_signed_heads 写出的 JSON 行）；默认读 SEAL_HEAD_EXPORT_DIR 中的文件（如有）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["heads"] is not None and not options["heads"].is_file():
            raise CommandError(f"签名头文件不存在：{options['heads']}")
        result = verify_archive(heads=options["heads"])
        if result.pending:
            self.stdout.write(f"等待签名：{result.pending} 条（已提交，签名任务 seal_logs 将在数秒内处理）")
        if result.ok:
            self.stdout.write(f"归档校验通过：{result.checked} 条")
            return
        for problem in result.problems:
            self.stdout.write(str(problem))
        raise CommandError(f"归档校验失败：已检查 {result.checked} 条，发现 {len(result.problems)} 处问题")
