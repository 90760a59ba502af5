"""Fixtures for the receipt tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.receipts.readback import Rendered, save_artifact


@pytest.fixture(scope="session")
def save_receipt() -> Callable[[str, bytes], Rendered]:
    """Save PDF bytes as test-artifacts/receipts/<name>.pdf and read them back."""
    return save_artifact
