"""Hypothesis strategies shared by tests (synthetic data only)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from shebao.common.idgen import make_resident_id

# A fixed "today" for validators in property tests: births never go past it.
REFERENCE_TODAY = dt.date(2025, 12, 31)
MIN_BIRTH = dt.date(1900, 1, 1)

# Address codes that python-stdnum's GB/T 2260 history lists (some only from a
# given year, which the validator accepts: the code is the one at issue time).
# One or more per province prefix accepted for resident ID numbers.
DIVISION_CODES = (
    "110101", "110105", "120101", "130102", "140121", "150121",
    "210224", "222401", "230722",
    "310101", "320102", "330122", "340121", "350121", "360121", "370102",
    "410102", "420102", "430121", "440103", "450102", "450103", "460105",
    "500101", "510121", "520203", "530124", "540121",
    "610323", "620121", "632221", "640121", "650121")  # fmt: skip


def division_codes() -> st.SearchStrategy[str]:
    return st.sampled_from(DIVISION_CODES)


def birth_dates(*, today: dt.date = REFERENCE_TODAY) -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=MIN_BIRTH, max_value=today)


def resident_id_bodies(*, today: dt.date = REFERENCE_TODAY) -> st.SearchStrategy[str]:
    """The first 17 digits of a resident ID number: listed address code, a birth
    date in [1900-01-01, today] and any 3-digit sequence."""
    return st.builds(
        lambda code, birth, seq: f"{code}{birth:%Y%m%d}{seq:03d}",
        division_codes(),
        birth_dates(today=today),
        st.integers(min_value=0, max_value=999),
    )


def valid_resident_ids(*, today: dt.date = REFERENCE_TODAY) -> st.SearchStrategy[str]:
    """Synthetic 18-character resident ID numbers that validate with ``today``."""
    return st.builds(
        lambda code, birth, seq: make_resident_id(division_code=code, birth=birth, seq=seq),
        division_codes(),
        birth_dates(today=today),
        st.integers(min_value=0, max_value=999),
    )
