"""Backup and restore round trip (issue 14): business done, backup, more business, restore into
a fresh database; there the archive and the audit log verify, archive completeness holds, and the
counts are those at the backup. The keys are not in the backup; a changed dump is refused."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from shebao.archive.services import seal_pending
from shebao.ops.backups import backup_create, table_counts
from shebao.refunds import services
from shebao.refunds.services import RefundAccount
from tests import actors
from tests.concurrency import database_url
from tests.refunds.helpers import PENSION, card_number, demo_account, pay_months

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _business(clock, month: int) -> None:
    """A month paid, then its refund applied for (archived, audited, ledgered), the logs sealed."""
    account = demo_account()
    reg = pay_months(account, [month], year=2026, now=clock.now)
    services.refund_apply_normal(actor=actors.citizen(account, step_up_at=clock.now), registration_no=reg, insurance_type_code=PENSION,
                                 period=f"2026{month:02d}", idempotency_key=f"backup-{month}", now=clock.now,
                                 to=RefundAccount(bank_code="102", account_number=card_number(), holder_name=account.name))
    seal_pending("archive", now=clock.now)
    seal_pending("audit", now=clock.now)


def _manage(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SHEBAO_ENV": "test", "DATABASE_URL": url}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _fresh_target(tmp_path: Path) -> tuple[str, callable]:
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}", lambda: None
    name = f"shebao_restore_{secrets.token_hex(4)}"
    admin = database_url().rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True, timeout=60)
    return database_url().rsplit("/", 1)[0] + f"/{name}", lambda: subprocess.run(
        ["psql", admin, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True, timeout=60)


def test_a_restored_backup_verifies_and_has_the_counts_at_the_backup(demo_people, clock, tmp_path):
    _business(clock, 3)
    at_backup = table_counts()
    made = backup_create(out_dir=tmp_path / "backups", now=clock.now)
    manifest = json.loads(made.manifest.read_text(encoding="utf-8"))
    assert manifest["counts"] == at_backup and "not included" in manifest["keys"]
    assert "SHEBAO_PII_KEY=" not in made.dump.read_bytes().decode("latin-1")
    _business(clock, 4)  # after the backup: not in it
    assert table_counts()["refunds.RefundApplication"] == at_backup["refunds.RefundApplication"] + 1

    target, drop = _fresh_target(tmp_path)
    try:
        call_command("restore", str(made.manifest), "--database-url", target)
        for command in ("verify_archive", "verify_audit", "check_archive_completeness"):
            done = _manage(target, command)
            assert done.returncode == 0, f"{command}: {done.stdout[-1500:]}{done.stderr[-1500:]}"
        counted = _manage(target, "shell", "-c", "import json; from shebao.ops.backups import table_counts; print(json.dumps(table_counts()))")
        assert json.loads(counted.stdout.strip().splitlines()[-1]) == at_backup, counted.stderr[-1500:]
        with pytest.raises(CommandError, match="不是空库|已存在"):
            call_command("restore", str(made.manifest), "--database-url", target)  # never over a database in use
    finally:
        drop()


def test_a_changed_dump_is_refused(demo_people, clock, tmp_path):
    made = backup_create(out_dir=tmp_path / "backups", now=clock.now)
    with made.dump.open("ab") as fh:
        fh.write(b"tampered")
    target, drop = _fresh_target(tmp_path)
    try:
        with pytest.raises(CommandError, match="摘要不符"):
            call_command("restore", str(made.manifest), "--database-url", target)
    finally:
        drop()
