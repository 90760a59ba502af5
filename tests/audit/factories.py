"""Factories for the archive and audit tests (synthetic data only)."""

from __future__ import annotations

import datetime as dt
import itertools
from io import StringIO

from django.core.management import CommandError, call_command
from django.db import connection

from shebao.accounts.models import Account
from shebao.common import crypto

FROZEN_NOW = dt.datetime(2026, 3, 1, 1, 30, 15, 123456, tzinfo=dt.UTC)
"""The clock of these tests: 2026-03-01 09:30 in Shanghai."""

_counter = itertools.count(1)


def seal_all() -> None:
    """What the sealer job does a few seconds after commit: seal both logs."""
    from shebao.archive.services import seal_pending

    seal_pending("archive", now=FROZEN_NOW)
    seal_pending("audit", now=FROZEN_NOW)


def account_create(*, is_staff: bool = False, is_superuser: bool = False) -> Account:
    """A citizen (default) or staff account with an opaque public id."""
    n = next(_counter)
    account = Account(
        public_id=crypto.random_token(12),
        username=f"staff{n}" if is_staff else f"u_test{n}",
        is_staff=is_staff or is_superuser,
        is_superuser=is_superuser,
        created_at=FROZEN_NOW,
    )
    account.set_password("correct horse battery staple")
    account.save()
    return account


def run_command(command: str, *args: str) -> tuple[bool, str]:
    """(succeeded, output) of a management command such as verify_audit / verify_archive."""
    out = StringIO()
    try:
        call_command(command, *args, stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def raw_sql(sql: str, params: list | None = None) -> None:
    """Change the log behind the ORM's back, as an attacker with database access would."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
