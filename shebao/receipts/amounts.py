"""Money and time as a Chinese receipt prints them.

``amount_in_words`` writes the capital amount (中文大写金额) following the People's Bank
rules for filling in bills (《正确填写票据和结算凭证的基本规定》): 壹贰叁… with 拾佰仟万亿,
one 零 for any run of zeros, 整 after an amount that ends in 元, nothing after 角 or 分,
and a 零 after 元 when the 元 digit is 0 but 角/分 follow (``100000.10`` → 壹拾万元零壹角)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from shebao.common.clock import SHANGHAI

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_IN_GROUP = ("仟", "佰", "拾", "")  # units inside one four-digit group, most significant first
_GROUPS = ("", "万", "亿")  # group units, least significant first
_CENT = Decimal("0.01")
_LIMIT = 10 ** (4 * len(_GROUPS))  # 1 万亿 yuan: far above any social-insurance payment


def to_cents(amount: Decimal) -> int:
    """The amount as a whole number of fen; refuses floats, NaN, infinities and
    amounts with more than two decimal places (a receipt never rounds silently)."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    amount = Decimal(amount)
    if not amount.is_finite():
        raise ValueError(f"amount is not finite: {amount}")
    cents = amount / _CENT
    if cents != cents.to_integral_value():
        raise ValueError(f"amount has more than two decimal places: {amount}")
    return int(cents)


def _group_in_words(group: int) -> str:
    """1..9999 in words, with one 零 for each run of inner zeros (1001 → 壹仟零壹)."""
    words: list[str] = []
    zero_pending = False
    for digit_char, unit in zip(f"{group:04d}", _IN_GROUP, strict=True):
        digit = int(digit_char)
        if digit == 0:
            zero_pending = bool(words)
            continue
        if zero_pending:
            words.append("零")
            zero_pending = False
        words.append(DIGITS[digit] + unit)
    return "".join(words)


def _yuan_in_words(yuan: int) -> str:
    """A positive whole number of yuan in words, without the 元."""
    groups: list[int] = []
    while yuan:
        yuan, group = divmod(yuan, 10_000)
        groups.append(group)
    words: list[str] = []
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(words)
            continue
        if words and (zero_pending or group < 1000):
            words.append("零")
        words.append(_group_in_words(group) + _GROUPS[index])
        zero_pending = False
    return "".join(words)


def amount_in_words(amount: Decimal) -> str:
    """The capital amount (大写) of a non-negative yuan amount with at most two decimals.

    >>> amount_in_words(Decimal("1261.56"))
    '壹仟贰佰陆拾壹元伍角陆分'
    >>> amount_in_words(Decimal("100.05"))
    '壹佰元零伍分'
    """
    cents = to_cents(amount)
    if cents < 0:
        raise ValueError(f"a receipt amount cannot be negative: {amount}")
    yuan, rest = divmod(cents, 100)
    if yuan >= _LIMIT:
        raise ValueError(f"amount too large for a receipt: {amount}")
    jiao, fen = divmod(rest, 10)
    if cents == 0:
        return "零元整"
    words = ""
    if yuan:
        words = _yuan_in_words(yuan) + "元"
        if rest == 0:
            return words + "整"
        if yuan % 10 == 0 or jiao == 0:  # 元 digit or 角 is zero: one 零 before what follows
            words += "零"
    if jiao:
        words += DIGITS[jiao] + "角"
    if fen:
        words += DIGITS[fen] + "分"
    return words


def format_amount(amount: Decimal) -> str:
    """Figures as the receipt prints them: two decimals, no grouping (``2447.76``)."""
    cents = to_cents(amount)
    sign = "-" if cents < 0 else ""
    yuan, fen = divmod(abs(cents), 100)
    return f"{sign}{yuan}.{fen:02d}"


def format_cn_datetime(value: dt.datetime) -> str:
    """Asia/Shanghai wall time as ``2026年11月27日 14:05:09``; naive datetimes are refused
    because a receipt must not guess the zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("receipt times must be timezone-aware")
    local = value.astimezone(SHANGHAI)
    return f"{local:%Y}年{local:%m}月{local:%d}日 {local:%H:%M:%S}"
