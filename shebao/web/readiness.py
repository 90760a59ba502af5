"""Readiness of the enabled adapters (used by /readyz)."""

from __future__ import annotations


def adapter_checks() -> dict[str, str]:
    return {}
