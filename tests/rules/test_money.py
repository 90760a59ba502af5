"""The one rounding helper and the fen boundary (STYLE "Money")."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from shebao.rules.money import from_fen, quantize_yuan, to_fen


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("630.78"), D("630.78")),
        (D("630.775"), D("630.78")),
        (D("630.7749"), D("630.77")),
        (D("-0.005"), D("-0.01")),
        (7, D("7.00")),
    ])
def test_quantize_yuan_rounds_half_up_to_the_fen(value, expected):
    result = quantize_yuan(value)

    assert result == expected and result.as_tuple().exponent == -2


def test_nanning_monthly_amount():
    assert quantize_yuan(D("3153.90") * D("0.2000")) == D("630.78")


@pytest.mark.parametrize("helper", [quantize_yuan, to_fen])
def test_float_is_a_type_error(helper):
    with pytest.raises(TypeError):
        helper(630.78)


def test_nan_is_refused():
    with pytest.raises(ValueError):
        quantize_yuan(D("NaN"))


def test_fen_round_trip():
    assert to_fen(D("630.78")) == 63078
    assert to_fen(D("1261.5")) == 126150
    assert from_fen(63078) == D("630.78") and from_fen(63078).as_tuple().exponent == -2
    assert from_fen(to_fen(D("0.01"))) == D("0.01")


def test_to_fen_never_rounds_silently():
    with pytest.raises(ValueError):
        to_fen(D("630.775"))


@pytest.mark.parametrize("value", [630.78, "63078", True])
def test_from_fen_takes_integers_only(value):
    with pytest.raises(TypeError):
        from_fen(value)
