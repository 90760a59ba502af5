"""Readiness of what the service needs besides the database (used by /readyz):
the crypto module works with the configured keys, and each enabled adapter is
fully configured. No call to third parties: a probe must be cheap."""

from __future__ import annotations

import functools
import logging

from django.conf import settings

logger = logging.getLogger("shebao.common")


def _crypto() -> str:
    from shebao.common import crypto

    try:
        token = crypto.encrypt("readyz", aad="readyz")
        ok = crypto.decrypt(token, aad="readyz") == "readyz" and len(crypto.digest(b"readyz")) == 64
    except Exception as exc:  # noqa: BLE001 - report, never raise, from a probe
        return f"error: {type(exc).__name__}"
    if not ok:
        return "error: round trip"
    if settings.SHEBAO_CRYPTO_SUITE == "sm" and crypto.sm2_backend() != "openssl":
        _warn_sm2_fallback()  # still correct, but ~40x slower per signature (docs/performance.md): stay ready
    return "ok"


@functools.cache
def _warn_sm2_fallback() -> None:
    """Once per process, not on every probe."""
    logger.warning("SM2 falls back to gmalg: libcrypto 3 with SM2 not found")


def _configured(name: str, config: dict, keys: tuple[str, ...]) -> str:
    missing = [k for k in keys if not config.get(k)]
    return "ok" if not missing else f"error: {name} missing {', '.join(missing)}"


def _cache() -> str:
    """Redis, when configured (sessions are read from it)."""
    from django.core.cache import cache

    try:
        cache.set("readyz", "ok", 5)
        return "ok" if cache.get("readyz") == "ok" else "error: round trip"
    except Exception as exc:  # noqa: BLE001 - report, never raise, from a probe
        return f"error: {type(exc).__name__}"


def adapter_checks() -> dict[str, str]:
    return {
        **({"cache": _cache()} if settings.REDIS_URL else {}),
        "crypto": _crypto(),
        "sms": _configured("SMS", settings.SMS, ("ENDPOINT", "ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "SIGN_NAME", "TEMPLATE_CODE")),
        "wechat": _configured("WECHAT", settings.WECHAT, ("APPID", "SECRET", "OPEN_BASE", "API_BASE")),
        "payment": _configured(
            "PAYMENT", settings.PAYMENT["WECHATPAY"],
            ("MCHID", "APPID", "MERCHANT_SERIAL_NO", "MERCHANT_PRIVATE_KEY", "APIV3_KEY", "PLATFORM_PUBLIC_KEY", "PLATFORM_PUBLIC_KEY_ID",
             "BASE_URL", "NOTIFY_URL"),
        ),
    }
