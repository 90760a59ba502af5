"""``manage.py backup [--out DIR]``: a consistent dump of the database with its manifest (keys excluded)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shebao.common import clock
from shebao.ops.backups import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database (PostgreSQL pg_dump, SQLite online backup) with a manifest; keys are not included"

    def add_arguments(self, parser):
        parser.add_argument("--out", default="", help="directory (default var/backups)")

    def handle(self, *args, out: str, **options):
        try:
            made = backup_create(out_dir=Path(out) if out else Path(settings.VAR_DIR) / "backups", now=clock.now())
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"备份完成：{made.dump}\n清单：{made.manifest}")
