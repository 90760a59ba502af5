"""Fixtures for the audit tests."""

from __future__ import annotations

import pytest

from shebao.accounts.models import Account
from tests.audit.factories import account_create


@pytest.fixture
def citizen() -> Account:
    return account_create()


@pytest.fixture
def staff() -> Account:
    return account_create(is_staff=True)
