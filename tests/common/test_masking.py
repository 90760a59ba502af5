"""Masking never shows more than its pattern allows (GB/T 35273 §7.2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shebao.common.masking import mask_address, mask_bank_account, mask_id_number, mask_mobile, mask_name
from tests.strategies import valid_resident_ids

PROPERTY = settings(deadline=None, database=None, max_examples=300)
ANY_TEXT = st.text(max_size=60)


NO_STAR_TEXT = st.text(alphabet=st.characters(blacklist_characters="*"), max_size=60)


def _shown(original: str, masked: str) -> list[int]:
    """Positions at which ``masked`` shows something other than ``*``; each must be
    the original character at that position (``original`` contains no ``*``)."""
    shown = [i for i, ch in enumerate(masked) if ch != "*"]
    assert all(i < len(original) and masked[i] == original[i] for i in shown)
    return shown


@pytest.mark.parametrize(
    "func,value,expected",
    [
        (mask_id_number, "450102198506011232", "4501**********1232"),
        (mask_id_number, "11010519491231002X", "1101**********002X"),
        (mask_id_number, "E12345678", "E1*****78"),
        (mask_id_number, "12345678", "********"),
        (mask_id_number, "", ""),
        (mask_mobile, "13812345678", "138****5678"),
        (mask_mobile, "", ""),
        (mask_mobile, "5551234", "*******"),  # a 7-digit local number is not shown in full
        (mask_mobile, "0771555123", "**********"),
        (mask_name, "张三", "张*"),
        (mask_name, "欧阳娜娜", "欧***"),
        (mask_name, "阿卜杜·热合曼", "阿******"),
        (mask_name, "𠮷田", "𠮷*"),
        (mask_name, "张", "*"),
        (mask_name, "", ""),
        (mask_bank_account, "6222020200112233445", "***************3445"),
        (mask_bank_account, "1234", "****"),
        (mask_bank_account, "", ""),
        (mask_address, "南宁市青秀区民族大道100号", "南宁市青秀区********"),
        (mask_address, "南宁市兴宁", "南宁***"),
    ])
def test_examples(func, value, expected):
    assert func(value) == expected


@pytest.mark.parametrize("func", [mask_id_number, mask_mobile, mask_name, mask_bank_account, mask_address])
def test_none_is_empty(func):
    assert func(None) == ""


@PROPERTY
@given(value=ANY_TEXT)
def test_mask_id_number_keeps_length_and_shows_at_most_first_and_last_four(value):
    masked = mask_id_number(value)
    assert len(masked) == len(value)
    for i, ch in enumerate(masked):
        if 4 <= i < len(value) - 4:
            assert ch == "*"
        else:
            assert ch in ("*", value[i])
    if len(value) >= 9:
        assert "*" in masked
    else:
        assert masked == "*" * len(value)


@PROPERTY
@given(value=NO_STAR_TEXT)
def test_mask_id_number_shows_at_most_eight_characters(value):
    shown = _shown(value, mask_id_number(value))
    assert all(i < 4 or i >= len(value) - 4 for i in shown)
    assert len(shown) <= 8 and (len(value) < 9 or len(shown) < len(value))


@PROPERTY
@given(number=valid_resident_ids())
def test_mask_id_number_of_a_resident_id(number):
    assert mask_id_number(number) == number[:4] + "*" * 10 + number[-4:]


@PROPERTY
@given(digits=st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_mask_mobile_of_11_digits_shows_exactly_3_plus_4(digits):
    masked = mask_mobile(digits)
    assert masked == digits[:3] + "****" + digits[-4:]
    assert sum(ch.isdigit() for ch in masked) == 7


@PROPERTY
@given(value=NO_STAR_TEXT)
def test_mask_mobile_hides_at_least_four_characters_of_anything(value):
    """The pattern 138****5678 hides 4 of 11 characters. Nothing shorter may come
    out (nearly) in clear: before the fix a 7-character value (a local fixed-line
    number) was returned unchanged and 8-10 characters kept only 1-3 hidden."""
    masked = mask_mobile(value)
    assert len(masked) == len(value)
    shown = _shown(value, masked)
    assert len(value) - len(shown) >= min(4, len(value))
    assert all(i < 3 or i >= len(value) - 4 for i in shown)


@PROPERTY
@given(value=ANY_TEXT)
def test_mask_name_reveals_only_the_first_character(value):
    masked = mask_name(value)
    assert len(masked) == len(value)
    assert masked[1:] == "*" * (len(value) - 1)
    if len(value) >= 2:
        assert masked[0] == value[0]


@PROPERTY
@given(value=ANY_TEXT)
def test_mask_bank_account_reveals_at_most_the_last_four(value):
    masked = mask_bank_account(value)
    assert len(masked) == len(value)
    assert masked[: max(len(value) - 4, 0)] == "*" * max(len(value) - 4, 0)
    if len(value) <= 4:
        assert masked == "*" * len(value)


@PROPERTY
@given(value=NO_STAR_TEXT)
def test_mask_bank_account_shows_at_most_four_characters(value):
    shown = _shown(value, mask_bank_account(value))
    assert len(shown) <= 4 and all(i >= len(value) - 4 for i in shown)


@PROPERTY
@given(value=NO_STAR_TEXT)
def test_mask_address_reveals_at_most_six_leading_characters_and_never_half(value):
    masked = mask_address(value)
    shown = _shown(value, masked)
    assert shown == list(range(len(shown)))  # a prefix
    assert len(shown) <= 6 and len(shown) <= len(value) - len(shown)
