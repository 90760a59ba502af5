from __future__ import annotations

import pytest

from tests.sso.factories import partner_create


@pytest.fixture
def partner(db, clock, demo_people):
    """The e-tax bureau registered as an SM2 / SM4-GCM ticket channel."""
    return partner_create(identifier="etax", now=clock())
