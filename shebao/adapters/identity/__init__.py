"""IdentityCheck port (实名核验) and its adapters. ``get_identity_check()`` returns the
configured client.

Importing this package is cheap (no HTTP library): the client module is loaded on the
first call."""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured

from shebao.adapters.identity.port import (
    IdentityCheck,
    IdentityCheckUnavailable,
    IdentityOutcome,
    IdentityVerdict,
    Mismatch,
)

__all__ = ["IdentityCheck", "IdentityCheckUnavailable", "IdentityOutcome", "IdentityVerdict", "Mismatch", "get_identity_check"]

_REQUIRED = ("ENDPOINT", "ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "PARAM_TYPE", "TIMEOUT_SECONDS")


def get_identity_check() -> IdentityCheck:
    """The real-name check chosen by ``settings.IDENTITY_CHECK["PROVIDER"]`` (only
    ``"aliyun"``, Cloudauth ``Mobile3MetaDetailVerify``, so far).

    One client (one HTTP connection pool) per distinct configuration and process; raises
    ``ImproperlyConfigured`` for an unknown provider or a missing value."""
    from django.conf import settings

    return _build(tuple(sorted((str(k), str(v)) for k, v in settings.IDENTITY_CHECK.items())))


@lru_cache(maxsize=4)
def _build(frozen_config: tuple[tuple[str, str], ...]) -> IdentityCheck:
    config = dict(frozen_config)
    provider = config.get("PROVIDER", "")
    if provider != "aliyun":
        raise ImproperlyConfigured(
            f"settings.IDENTITY_CHECK['PROVIDER'] = {provider!r}: unknown identity-check provider (known: 'aliyun')"
        )
    missing = [key for key in _REQUIRED if not config.get(key)]
    if missing:
        raise ImproperlyConfigured(f"settings.IDENTITY_CHECK is missing {', '.join(missing)}")
    from shebao.adapters.identity.aliyun import PARAM_TYPES, AliyunMobile3MetaCheck

    if config["PARAM_TYPE"] not in PARAM_TYPES:
        raise ImproperlyConfigured(f"settings.IDENTITY_CHECK['PARAM_TYPE'] must be one of {', '.join(PARAM_TYPES)}")
    return AliyunMobile3MetaCheck(
        endpoint=config["ENDPOINT"],
        access_key_id=config["ACCESS_KEY_ID"],
        access_key_secret=config["ACCESS_KEY_SECRET"],
        param_type=config["PARAM_TYPE"],
        timeout=float(config["TIMEOUT_SECONDS"]),
    )
