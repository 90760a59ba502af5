"""Factories for the archive and audit tests (synthetic data only)."""

from __future__ import annotations

import datetime as dt
import itertools

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
