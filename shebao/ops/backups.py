"""Backups of the service's database and their restore (issue "Operations and speed").

PostgreSQL: ``pg_dump --format=custom`` (consistent: one snapshot) and ``pg_restore`` into an
empty database; SQLite: the online backup API (a consistent copy while the service runs). Beside
each dump a manifest: the release, the last migration of each app, the row counts of the
business tables and the dump's SHA-256, checked before a restore. The keys (personal-data
encryption keys, signing keys) are never in a backup: they come from the key store (the dev
secrets file in development), kept apart from the data; a restore needs them to read it.

Hand-written around the tools (pg_dump, sqlite3) because no maintained Django package does
both with a verified manifest and an empty-target check."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

COUNTED = ("accounts.Account", "fees.PaymentOrder", "fees.PaymentAttempt", "fees.PaymentRefund", "refunds.RefundApplication",
           "archive.ArchiveRecord", "audit.AuditEvent", "core.TaxReceipt", "core.Declaration")


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


@dataclass(frozen=True)
class Backup:
    dump: Path
    manifest: Path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_counts() -> dict[str, int]:
    from django.apps import apps

    return {label: apps.get_model(label).objects.count() for label in COUNTED}


def _migrations() -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    last: dict[str, str] = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("id").values_list("app", "name"):
        last[app] = name
    return last


def _pg_env(url: str) -> tuple[dict[str, str], str]:
    parts = urlsplit(url)
    env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432), "PGUSER": parts.username or "postgres"}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return env, parts.path.lstrip("/")


def backup_create(*, out_dir: Path, now: dt.datetime) -> Backup:
    """Dump the default database into ``out_dir`` with its manifest."""
    from django.conf import settings
    from django.db import connection

    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    if connection.vendor == "postgresql":
        dump = out_dir / f"shebao-{stamp}.pgdump"
        env, name = _pg_env(_pg_url(connection.settings_dict))
        done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), name], env=env, capture_output=True,
                              text=True, timeout=3600)
        if done.returncode != 0:
            raise BackupError(f"pg_dump 失败：{done.stderr.strip()[-500:]}")
    elif connection.vendor == "sqlite":
        dump = out_dir / f"shebao-{stamp}.sqlite3"
        connection.ensure_connection()
        with closing(sqlite3.connect(dump)) as target:
            connection.connection.backup(target)
    else:
        raise BackupError(f"不支持的数据库：{connection.vendor}")
    manifest = dump.with_suffix(dump.suffix + ".json")
    manifest.write_text(json.dumps({
        "service_version": settings.SERVICE_VERSION, "vendor": connection.vendor, "created_at": now.isoformat(),
        "dump": dump.name, "sha256": _sha256(dump), "counts": table_counts(), "migrations": _migrations(),
        "keys": "not included: restore with the same SHEBAO_PII_KEY, SHEBAO_INDEX_KEY and signing keys from the key store",
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    return Backup(dump=dump, manifest=manifest)


def _pg_url(s: dict) -> str:
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def backup_restore(*, manifest: Path, database_url: str) -> dict:
    """Restore the dump named by ``manifest`` into the EMPTY database at ``database_url`` (a
    PostgreSQL database with no tables, or a SQLite file that does not exist yet), after checking
    the dump against the manifest's SHA-256. Returns the manifest."""
    meta = json.loads(manifest.read_text(encoding="utf-8"))
    dump = manifest.parent / meta["dump"]
    if not dump.is_file() or _sha256(dump) != meta["sha256"]:
        raise BackupError("备份文件缺失或与清单的摘要不符，拒绝恢复")
    if meta["vendor"] == "postgresql":
        if not database_url.startswith(("postgres://", "postgresql://")):
            raise BackupError("PostgreSQL 备份只能恢复到 PostgreSQL 数据库")
        env, name = _pg_env(database_url)
        tables = subprocess.run(["psql", "-tAc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", name], env=env,
                                capture_output=True, text=True, timeout=60)
        if tables.returncode != 0:
            raise BackupError(f"无法连接目标数据库：{tables.stderr.strip()[-300:]}")
        if int(tables.stdout.strip() or 0):
            raise BackupError("目标数据库不是空库，拒绝覆盖")
        done = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", name, str(dump)], env=env,
                              capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise BackupError(f"pg_restore 失败：{done.stderr.strip()[-500:]}")
    else:
        if not database_url.startswith("sqlite:///"):
            raise BackupError("SQLite 备份只能恢复为 SQLite 文件（sqlite:///路径）")
        target = Path(database_url.removeprefix("sqlite:///"))
        if target.exists():
            raise BackupError("目标数据库文件已存在，拒绝覆盖")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dump, target)
    return meta
