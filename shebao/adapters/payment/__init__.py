"""Payment channel port and its adapters. ``get_payment_channel()`` returns the configured client.

Importing this package is cheap (no HTTP or crypto library): the client module is
loaded on the first call. The simulator (``simulator.py``) is mounted under
``/sim/wxpay`` in development by ``shebao.adapters.simulators``.
"""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured

from shebao.adapters.payment.port import (
    Bill,
    ChannelTransaction,
    LaunchParams,
    NotificationRejected,
    OrderAlreadyPaid,
    OutTradeNoUsed,
    PaymentChannel,
    PaymentError,
    StatementLine,
)

__all__ = [
    "Bill",
    "ChannelTransaction",
    "LaunchParams",
    "NotificationRejected",
    "OrderAlreadyPaid",
    "OutTradeNoUsed",
    "PaymentChannel",
    "PaymentError",
    "StatementLine",
    "get_payment_channel",
]

CHANNELS = {"wechatpay": "WECHATPAY"}
_REQUIRED = (
    "MCHID", "APPID", "MERCHANT_SERIAL_NO", "MERCHANT_PRIVATE_KEY", "APIV3_KEY", "PLATFORM_PUBLIC_KEY", "PLATFORM_PUBLIC_KEY_ID",
    "BASE_URL", "NOTIFY_URL", "TIMEOUT_SECONDS",
)


def get_payment_channel(name: str = "wechatpay") -> PaymentChannel:
    """The payment channel called ``name`` (only ``"wechatpay"`` so far), built from
    ``settings.PAYMENT["WECHATPAY"]``: MCHID, APPID, MERCHANT_SERIAL_NO, MERCHANT_PRIVATE_KEY,
    APIV3_KEY, PLATFORM_PUBLIC_KEY, PLATFORM_PUBLIC_KEY_ID, BASE_URL, NOTIFY_URL,
    TIMEOUT_SECONDS and optionally REFUND_NOTIFY_URL (else NOTIFY_URL) and CASHIER_URL (development only).

    One client (and so one HTTP connection pool) per distinct configuration and process;
    raises ``ImproperlyConfigured`` for an unknown channel or a missing value."""
    from django.conf import settings

    section = CHANNELS.get(name)
    if section is None:
        raise ImproperlyConfigured(f"unknown payment channel {name!r} (known: {', '.join(CHANNELS)})")
    config = getattr(settings, "PAYMENT", {}).get(section)
    if not config:
        raise ImproperlyConfigured(f"settings.PAYMENT[{section!r}] is not configured")
    return _build(name, tuple(sorted((str(k), str(v) if v is not None else "") for k, v in config.items())))


@lru_cache(maxsize=4)
def _build(name: str, frozen_config: tuple[tuple[str, str], ...]) -> PaymentChannel:
    config = dict(frozen_config)
    missing = [key for key in _REQUIRED if not config.get(key)]
    if missing:
        raise ImproperlyConfigured(f"settings.PAYMENT['WECHATPAY'] is missing {', '.join(missing)}")
    from shebao.adapters.payment.wechatpay import WechatPayV3Channel

    return WechatPayV3Channel(
        mchid=config["MCHID"],
        appid=config["APPID"],
        merchant_serial_no=config["MERCHANT_SERIAL_NO"],
        merchant_private_key_pem=config["MERCHANT_PRIVATE_KEY"],
        apiv3_key=config["APIV3_KEY"],
        platform_public_key_pem=config["PLATFORM_PUBLIC_KEY"],
        platform_public_key_id=config["PLATFORM_PUBLIC_KEY_ID"],
        base_url=config["BASE_URL"],
        notify_url=config["NOTIFY_URL"],
        refund_notify_url=config.get("REFUND_NOTIFY_URL") or None,
        timeout=float(config["TIMEOUT_SECONDS"]),
        cashier_url=config.get("CASHIER_URL") or None,
    )
