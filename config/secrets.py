"""Development and test secrets: generated once into var/, never committed.

Production takes every secret from the environment (see config.settings)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def _generate() -> dict[str, str]:
    from gmalg import SM2  # local import: only on first start

    sm2 = SM2()
    private_key, _public_key = sm2.generate_keypair()
    return {
        **_payment_keys(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SHEBAO_PII_KEY": secrets.token_hex(16),
        "SHEBAO_INDEX_KEY": secrets.token_hex(32),
        "SHEBAO_SM2_PRIVATE_KEY": private_key.hex(),
        "SMS_ACCESS_KEY_SECRET": secrets.token_urlsafe(24),
        "WECHAT_SECRET": secrets.token_hex(16),
    }


def _payment_keys() -> dict[str, str]:
    from shebao.adapters.payment.keys import generate_dev_keys

    return generate_dev_keys()


def _write(path: Path, values: dict[str, str], *, replace: bool) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    if replace:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic: the first process to start wins
    except FileExistsError:
        pass
    tmp.unlink(missing_ok=True)


def parse_keyring(text: str, *, name: str) -> dict[str, str]:
    """``"kid1:hex,kid2:hex"`` -> ``{"kid1": "hex", ...}`` in the given order (the
    first is the current kid unless one is named). The keys themselves are checked
    by :mod:`shebao.common.crypto` on first use."""
    ring: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        kid, sep, key = item.partition(":")
        if not sep or not kid or not key or kid in ring:
            raise ValueError(f"{name}: 每项应为 kid:十六进制密钥，且编号不重复")
        ring[kid] = key
    return ring


def load_dev_secrets(path: Path) -> dict[str, str]:
    """Load the secrets file, creating it (mode 600) on first use; keys added
    by a newer version of the service are generated and written back."""
    if path.exists():
        values = json.loads(path.read_text())
        if "WECHATPAY_APIV3_KEY" not in values:
            _write(path, {**_payment_keys(), **values}, replace=True)
            values = json.loads(path.read_text())
        return values
    values = _generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, values, replace=False)
    return json.loads(path.read_text())
