"""Synthetic, checksum-valid GB 11643 numbers for demo data and tests.

The numbers are made up: they pass :func:`shebao.common.validators.validate_id_number`
but belong to nobody. Never use a real person's number in fixtures."""

from __future__ import annotations

import datetime as dt
import re

from shebao.common.validators import id18_check_char


def make_resident_id(*, division_code: str = "450102", birth: dt.date = dt.date(1985, 6, 1), seq: int = 123) -> str:
    """An 18-character number ``division_code + YYYYMMDD + seq + check``.

    ``seq`` is the 3-digit sequence (odd for men, even for women). The same
    layout gives residence-permit numbers (``division_code="810000"``,
    ``"820000"`` or ``"830000"``) and 2023 PR-card numbers (a code starting
    with ``9``, e.g. ``"945156"``)."""
    if not re.fullmatch(r"[0-9]{6}", division_code, re.ASCII):
        raise ValueError("division_code must be 6 ASCII digits")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be in 0..999")
    if not 1000 <= birth.year <= 9999:
        raise ValueError("birth year must have 4 digits")
    body = f"{division_code}{birth:%Y%m%d}{seq:03d}"
    return body + id18_check_char(body)
