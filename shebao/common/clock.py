"""The one clock. Services receive ``now`` from here (or from a test) so every
rule can be exercised on any date; nothing else calls ``timezone.now()``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """Aware UTC now."""
    return timezone.now()


def today() -> dt.date:
    """Today's date in Asia/Shanghai, where the payers live."""
    return now().astimezone(SHANGHAI).date()


def local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(SHANGHAI)
