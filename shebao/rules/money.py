"""Money: Decimal yuan with two places, rounded in ONE place (STYLE "Money").

``quantize_yuan`` is the only rounding of amounts in the service
(ROUND_HALF_UP to the fen, 四舍五入到分); integer fen exist only at the
boundary to payment adapters (``to_fen`` / ``from_fen``). A float is a
programming error everywhere here and raises TypeError.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def _require_decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what}必须是 Decimal（不得使用 float），收到 {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{what}必须是有限数：{value}")
    return amount


def quantize_yuan(value: Decimal) -> Decimal:
    """Round a yuan amount to the fen, half up: 630.775 → 630.78, 630.774 → 630.77.

    Accepts Decimal (or int); raises TypeError on float, ValueError on NaN/∞."""
    return _require_decimal(value, "金额").quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen(value: Decimal) -> int:
    """Yuan → integer fen for a payment adapter: Decimal("630.78") → 63078.

    The amount must already be exact to the fen (ValueError otherwise):
    rounding happens in ``quantize_yuan`` before money reaches a boundary,
    never silently here."""
    amount = _require_decimal(value, "金额")
    if amount != amount.quantize(FEN):
        raise ValueError(f"金额 {amount} 不是整分，请先用 quantize_yuan 取整")
    return int(amount.scaleb(2))


def from_fen(value: int) -> Decimal:
    """Integer fen → Decimal yuan with two places: 63078 → Decimal("630.78")."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"分必须是整数，收到 {type(value).__name__}")
    return Decimal(value).scaleb(-2).quantize(FEN)
