"""Development key material for WeChat Pay and its simulator (interfaces.md §4.10).

Production keys come from the merchant platform (商户平台 → API安全): the merchant
API private key and its certificate serial, the APIv3 key, and the WeChat Pay public
key with its id. In development ``config/secrets.py`` generates a matching set once,
here, and keeps it in ``var/dev-secrets.json`` (mode 600) beside the other secrets.
"""

from __future__ import annotations

import secrets
import string

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEV_PLATFORM_PUBLIC_KEY_ID = "PUB_KEY_ID_0112345678901234567890"
_APIV3_ALPHABET = string.ascii_letters + string.digits


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem.decode("ascii"), public_pem.decode("ascii")


def generate_dev_keys() -> dict[str, str]:
    """A fresh, self-consistent WeChat Pay key set for development and tests.

    Keys (ready to merge into the dev secrets dict): ``WECHATPAY_MERCHANT_PRIVATE_KEY`` /
    ``WECHATPAY_MERCHANT_PUBLIC_KEY`` (RSA-2048 PEM; the simulator verifies our
    requests with the public half), ``WECHATPAY_MERCHANT_SERIAL_NO`` (40 hex digits,
    like a certificate serial), ``WECHATPAY_PLATFORM_PRIVATE_KEY`` /
    ``WECHATPAY_PLATFORM_PUBLIC_KEY`` (RSA-2048 PEM; the simulator signs with the private
    half), ``WECHATPAY_PLATFORM_PUBLIC_KEY_ID`` (``PUB_KEY_ID_…``) and
    ``WECHATPAY_APIV3_KEY`` (32 ASCII letters and digits)."""
    merchant_private, merchant_public = _key_pair()
    platform_private, platform_public = _key_pair()
    return {
        "WECHATPAY_MERCHANT_PRIVATE_KEY": merchant_private,
        "WECHATPAY_MERCHANT_PUBLIC_KEY": merchant_public,
        "WECHATPAY_MERCHANT_SERIAL_NO": secrets.token_hex(20).upper(),
        "WECHATPAY_PLATFORM_PRIVATE_KEY": platform_private,
        "WECHATPAY_PLATFORM_PUBLIC_KEY": platform_public,
        "WECHATPAY_PLATFORM_PUBLIC_KEY_ID": DEV_PLATFORM_PUBLIC_KEY_ID,
        "WECHATPAY_APIV3_KEY": "".join(secrets.choice(_APIV3_ALPHABET) for _ in range(32)),
    }
