"""Sms port and its adapters. ``get_sms_gateway()`` returns the configured client.

Importing this package is cheap (no HTTP library): the client module is loaded on
the first call."""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured

from shebao.adapters.sms.port import SmsError, SmsGateway, SmsRateLimited, SmsResult

__all__ = ["SmsError", "SmsGateway", "SmsRateLimited", "SmsResult", "get_sms_gateway"]

_REQUIRED = ("ENDPOINT", "ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "SIGN_NAME", "TEMPLATE_CODE", "TIMEOUT_SECONDS")


def get_sms_gateway() -> SmsGateway:
    """The SMS client chosen by ``settings.SMS["PROVIDER"]`` (only ``"aliyun"`` so far).

    One client (and so one HTTP connection pool) per distinct configuration and
    process; raises ``ImproperlyConfigured`` for an unknown provider or a missing value."""
    from django.conf import settings

    config = settings.SMS
    return _build(tuple(sorted((str(k), str(v)) for k, v in config.items())))


@lru_cache(maxsize=4)
def _build(frozen_config: tuple[tuple[str, str], ...]) -> SmsGateway:
    config = dict(frozen_config)
    provider = config.get("PROVIDER", "")
    if provider != "aliyun":
        raise ImproperlyConfigured(f"settings.SMS['PROVIDER'] = {provider!r}: unknown SMS provider (known: 'aliyun')")
    missing = [key for key in _REQUIRED if not config.get(key)]
    if missing:
        raise ImproperlyConfigured(f"settings.SMS is missing {', '.join(missing)}")
    from shebao.adapters.sms.aliyun import AliyunSmsGateway

    return AliyunSmsGateway(
        endpoint=config["ENDPOINT"],
        access_key_id=config["ACCESS_KEY_ID"],
        access_key_secret=config["ACCESS_KEY_SECRET"],
        sign_name=config["SIGN_NAME"],
        template_code=config["TEMPLATE_CODE"],
        timeout=float(config["TIMEOUT_SECONDS"]),
        notice_templates={"mobile_changed": config.get("NOTICE_MOBILE_CHANGED_TEMPLATE_CODE", ""),
                          "batch_reminder": config.get("NOTICE_BATCH_REMINDER_TEMPLATE_CODE", ""),
                          "batch_failed": config.get("NOTICE_BATCH_FAILED_TEMPLATE_CODE", "")},
    )
