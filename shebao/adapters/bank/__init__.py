"""BankGateway port (三方协议验证, 实时扣款) and its adapters. ``get_bank_gateway()`` returns the
configured client.

Importing this package is cheap (no HTTP or XML library): the client module is loaded on
the first call. The simulator (``simulator.py``) is mounted under ``/sim/bank`` in
development by ``shebao.adapters.simulators``.
"""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured

from shebao.adapters.bank.port import (
    AgreementCheck,
    AgreementVerdict,
    BankAccount,
    BankError,
    BankGateway,
    BankRequestRefused,
    BankUnavailable,
    Deduction,
    DeductionNotFound,
    DeductionState,
    FailReason,
    VerifyMethod,
    reason_text,
)

__all__ = [
    "AgreementCheck", "AgreementVerdict", "BankAccount", "BankError", "BankGateway", "BankRequestRefused", "BankUnavailable",
    "Deduction", "DeductionNotFound", "DeductionState", "FailReason", "VerifyMethod", "get_bank_gateway", "reason_text",
]

_REQUIRED = ("BASE_URL", "TIMEOUT_SECONDS", "SRC_NODE", "DES_NODE", "PAYEE_BANK_NO", "PAYEE_ORG_CODE", "PAYEE_ACCOUNT", "PAYEE_NAME")


def get_bank_gateway() -> BankGateway:
    """The bank gateway chosen by ``settings.BANK["PROVIDER"]`` (only ``"tips"``, the CFX
    messages through the tax core's bank front, so far), built from ``settings.BANK``:
    BASE_URL, TIMEOUT_SECONDS, SRC_NODE, DES_NODE, PAYEE_BANK_NO, PAYEE_ORG_CODE,
    PAYEE_ACCOUNT, PAYEE_NAME (TAX_ORG_CODE is the domain's).

    One client (one HTTP connection pool) per distinct configuration and process; raises
    ``ImproperlyConfigured`` for an unknown provider or a missing value."""
    from django.conf import settings

    return _build(tuple(sorted((str(k), str(v)) for k, v in settings.BANK.items())))


@lru_cache(maxsize=4)
def _build(frozen_config: tuple[tuple[str, str], ...]) -> BankGateway:
    config = dict(frozen_config)
    if config.get("PROVIDER", "") != "tips":
        raise ImproperlyConfigured(f"settings.BANK['PROVIDER'] = {config.get('PROVIDER', '')!r}: unknown bank gateway (known: 'tips')")
    missing = [key for key in _REQUIRED if not config.get(key)]
    if missing:
        raise ImproperlyConfigured(f"settings.BANK is missing {', '.join(missing)}")
    from shebao.adapters.bank.tips import TipsBankGateway

    return TipsBankGateway(
        base_url=config["BASE_URL"], timeout=float(config["TIMEOUT_SECONDS"]), src_node=config["SRC_NODE"],
        des_node=config["DES_NODE"], payee_bank_no=config["PAYEE_BANK_NO"], payee_org_code=config["PAYEE_ORG_CODE"],
        payee_account=config["PAYEE_ACCOUNT"], payee_name=config["PAYEE_NAME"],
    )
