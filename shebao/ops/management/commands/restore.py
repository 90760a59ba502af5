"""``manage.py restore MANIFEST --database-url URL``: restore a backup into an empty database."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shebao.ops.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup (its manifest .json) into an EMPTY database; then run verify_archive and verify_audit against it"

    def add_arguments(self, parser):
        parser.add_argument("manifest")
        parser.add_argument("--database-url", required=True, help="the empty target: postgres://… or sqlite:///path (must not exist)")

    def handle(self, *args, manifest: str, database_url: str, **options):
        try:
            meta = backup_restore(manifest=Path(manifest), database_url=database_url)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        counts = "，".join(f"{k} {v}" for k, v in meta["counts"].items())
        self.stdout.write(f"已恢复 {meta['created_at']} 的备份（版本 {meta['service_version']}）：{counts}")
