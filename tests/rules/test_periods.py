"""FeePeriod (费款所属期): its own YYYYMM type (STYLE "Time")."""

from __future__ import annotations

import datetime as dt

import pytest

from shebao.rules.periods import FeePeriod


@pytest.mark.parametrize("text", ["202602", "2026-02", " 2026-02 "])
def test_parse_both_forms(text):
    assert FeePeriod.parse(text) == FeePeriod(2026, 2)


@pytest.mark.parametrize("text", ["2026-13", "202600", "2026/02", "26-02", "2026-2", "", "2026-02-01"])
def test_parse_refuses_malformed(text):
    with pytest.raises(ValueError):
        FeePeriod.parse(text)


def test_constructor_refuses_non_integers_and_bad_months():
    with pytest.raises(TypeError):
        FeePeriod(2026.0, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        FeePeriod(2026, True)
    with pytest.raises(ValueError):
        FeePeriod(2026, 0)


def test_text_forms():
    period = FeePeriod(2026, 2)

    assert (str(period), period.yyyymm, period.label(), period.first_day) == (
        "2026-02",
        "202602",
        "2026年2月",
        dt.date(2026, 2, 1),
    )


def test_ordering_next_and_previous_across_the_year_end():
    assert FeePeriod(2020, 12) < FeePeriod(2021, 1) < FeePeriod(2021, 2)
    assert FeePeriod(2020, 12).next() == FeePeriod(2021, 1)
    assert FeePeriod(2021, 1).previous() == FeePeriod(2020, 12)


def test_range_is_inclusive():
    assert FeePeriod.range(FeePeriod(2020, 11), FeePeriod(2021, 2)) == (
        FeePeriod(2020, 11), FeePeriod(2020, 12), FeePeriod(2021, 1), FeePeriod(2021, 2),
    )  # fmt: skip
    assert FeePeriod.range(FeePeriod(2021, 3), FeePeriod(2021, 3)) == (FeePeriod(2021, 3),)
    with pytest.raises(ValueError):
        FeePeriod.range(FeePeriod(2021, 3), FeePeriod(2021, 2))


def test_of_takes_a_date_not_a_datetime():
    assert FeePeriod.of(dt.date(2021, 2, 28)) == FeePeriod(2021, 2)
    with pytest.raises(TypeError):
        FeePeriod.of(dt.datetime(2021, 2, 28, tzinfo=dt.UTC))


def test_is_hashable_and_immutable():
    period = FeePeriod(2021, 2)
    with pytest.raises(AttributeError):
        period.month = 3  # type: ignore[misc]
    assert {period, FeePeriod.parse("202102")} == {period}
