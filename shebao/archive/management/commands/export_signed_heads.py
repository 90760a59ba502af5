"""``manage.py export_signed_heads``: copy each log's latest signed head outside the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from shebao.archive.heads import LOG_KINDS, head_export, heads_dir, heads_path


class Command(BaseCommand):
    help = (
        "把归档与审计日志最新签名批次的签名头（长度、默克尔根、末条链哈希、时间、SM2 签名）追加到数据库之外的文件"
        "（SEAL_HEAD_EXPORT_DIR，每个日志一个只追加文件，写后 fsync；未变化则不写）。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dir", type=Path, help="导出目录；默认 SEAL_HEAD_EXPORT_DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["dir"] or heads_dir()
        for kind in LOG_KINDS:
            head = head_export(kind, directory=directory)
            path = heads_path(kind, directory)
            if head is None:
                self.stdout.write(f"{kind}：签名头未变化，未写入（{path}）")
            else:
                self.stdout.write(f"{kind}：已写入签名头 last_seq={head['last_seq']}（{path}）")
