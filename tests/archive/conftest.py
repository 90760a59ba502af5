"""Fixtures for the archive tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shebao.archive.models import ArchiveRecord
from tests.archive.factories import archived_business
from tests.audit.factories import seal_all


@pytest.fixture
def append() -> Callable[..., ArchiveRecord]:
    return archived_business


@pytest.fixture
def three_records() -> list[ArchiveRecord]:
    """seq 1 registration, seq 2 payment with a payer signature, seq 3 registration."""
    records = [archived_business(1), archived_business(2, business_type="payment", payer_signature="sm2:" + "ab" * 64), archived_business(3)]
    seal_all()
    for record in records:
        record.refresh_from_db()
    return records
