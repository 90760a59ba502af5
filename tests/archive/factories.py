"""Factories for the archive tests: the electronic data of a business, with
synthetic personal values, archived the way a service does it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction

from shebao.archive.models import ArchiveRecord
from shebao.archive.services import archive_append
from tests.audit.factories import FROZEN_NOW

ID_NUMBER = "45010219900101123X"
MOBILE = "13812345678"


def registration_data(n: int = 1) -> dict[str, Any]:
    """The electronic data of a registration, with personal values."""
    return {
        "name": "张三",
        "id_type": "201",
        "id_number": ID_NUMBER,
        "mobile": MOBILE,
        "fee_amount": Decimal("350.00"),
        "born_on": dt.date(1990, 1, 1),
        "n": n,
    }


def archived_business(n: int = 1, *, subject_ref: str = "acct_public_1", at: dt.datetime | None = None, **overrides: Any) -> ArchiveRecord:
    """Archive business number ``n`` inside its own transaction, as a service would."""
    kwargs: dict[str, Any] = {
        "business_type": "registration",
        "business_ref": f"reg-{n}",
        "subject_ref": subject_ref,
        "data": registration_data(n),
        "now": at or FROZEN_NOW + dt.timedelta(seconds=n),
    }
    kwargs.update(overrides)
    with transaction.atomic():
        return archive_append(**kwargs)
