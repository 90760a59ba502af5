"""Capital amounts (大写) and the figures and times printed on a receipt."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shebao.receipts.amounts import amount_in_words, format_amount, format_cn_datetime


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0.00", "零元整"),
        ("0", "零元整"),
        ("10.00", "壹拾元整"),
        ("100.05", "壹佰元零伍分"),
        ("1001.00", "壹仟零壹元整"),
        ("100000.10", "壹拾万元零壹角"),
        ("1261.56", "壹仟贰佰陆拾壹元伍角陆分"),
        ("2447.76", "贰仟肆佰肆拾柒元柒角陆分"),
        ("0.05", "伍分"),
        ("0.50", "伍角"),
        ("0.56", "伍角陆分"),
        ("1.05", "壹元零伍分"),
        ("1.50", "壹元伍角"),
        ("15.00", "壹拾伍元整"),
        ("325.04", "叁佰贰拾伍元零肆分"),  # examples from the PBOC bill-filling rules
        ("1409.50", "壹仟肆佰零玖元伍角"),
        ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("107000.53", "壹拾万柒仟元零伍角叁分"),
        ("10010.00", "壹万零壹拾元整"),
        ("10100.00", "壹万零壹佰元整"),
        ("11000.00", "壹万壹仟元整"),
        ("1000001.00", "壹佰万零壹元整"),
        ("100010000.00", "壹亿零壹万元整"),
        ("100001000.00", "壹亿零壹仟元整"),
        ("200000100.00", "贰亿零壹佰元整"),
        ("100000000.00", "壹亿元整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ])
def test_amount_in_words(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_trailing_zeros_do_not_matter() -> None:
    assert amount_in_words(Decimal("12.5")) == amount_in_words(Decimal("12.500")) == "壹拾贰元伍角"


@pytest.mark.parametrize("amount", [Decimal("1.005"), Decimal("-0.01"), Decimal("NaN"), Decimal("Infinity"), Decimal("1E12")])
def test_amounts_a_receipt_cannot_print_are_refused(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        amount_in_words(amount)


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        amount_in_words(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "text"), [("2447.76", "2447.76"), ("4371", "4371.00"), ("0.5", "0.50"), ("12345678.90", "12345678.90")]
)
def test_format_amount(amount: str, text: str) -> None:
    assert format_amount(Decimal(amount)) == text


def test_format_cn_datetime_is_shanghai_wall_time() -> None:
    assert format_cn_datetime(dt.datetime(2026, 11, 27, 6, 5, 9, tzinfo=dt.UTC)) == "2026年11月27日 14:05:09"
    assert format_cn_datetime(dt.datetime(2026, 12, 31, 16, 0, 0, tzinfo=dt.UTC)) == "2027年01月01日 00:00:00"


def test_format_cn_datetime_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        format_cn_datetime(dt.datetime(2026, 11, 27, 14, 5, 9))
