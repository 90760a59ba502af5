"""Masking of personal data for every screen, log and export (GB/T 35273 §7.2).

Patterns: ID number first 4 + last 4 (``4501**********1234``), mobile
``138****5678``, name ``张*``, address keeps its first 6 characters, bank
account keeps the last 4. Each function accepts any string and never returns
more of it than the pattern allows."""

from __future__ import annotations


def _stars(n: int) -> str:
    return "*" * max(n, 0)


def mask_id_number(value: str) -> str:
    value = value or ""
    if len(value) <= 8:
        return _stars(len(value))
    if len(value) < 15:  # passports and permits: keep at most 2 + 2
        return value[:2] + _stars(len(value) - 4) + value[-2:]
    return value[:4] + _stars(len(value) - 8) + value[-4:]


def mask_mobile(value: str) -> str:
    value = value or ""
    if len(value) < 11:  # shorter values would keep fewer than 4 hidden (7 chars: none)
        return _stars(len(value))
    return value[:3] + _stars(len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    value = value or ""
    if len(value) <= 1:
        return _stars(len(value))
    return value[0] + _stars(len(value) - 1)


def mask_address(value: str) -> str:
    value = value or ""
    keep = min(6, len(value) // 2)
    return value[:keep] + _stars(min(len(value) - keep, 8))


def mask_bank_account(value: str) -> str:
    value = value or ""
    if len(value) <= 4:
        return _stars(len(value))
    return _stars(len(value) - 4) + value[-4:]
