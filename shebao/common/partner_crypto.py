"""Algorithms of the partner channels (single sign-on tickets, signed partner API requests):
the companion of :mod:`shebao.common.crypto`, and like it the only place that touches them.

Each partner channel chooses, in the back office, its signature algorithm (``sm2``: SM2 with
SM3 and the default uid ``1234567812345678``, GB/T 39786; or ``ed25519``) and its ticket
encryption (``sm4gcm`` or ``aesgcm``, with a key of its own: 16 bytes for SM4, 32 for AES).
Public keys are hex: SM2 the uncompressed point ``04||X||Y``, Ed25519 the 32 raw bytes.

Signing with a partner's *private* key (:func:`partner_sign`) is for the partner simulator and
the tests: the service itself signs only with its own key (:func:`shebao.common.crypto.sign`).
"""

from __future__ import annotations

import os
import secrets

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shebao.common import crypto, sm2_openssl
from shebao.common.crypto import DecryptionError

SIGNATURE_ALGORITHMS = ("sm2", "ed25519")
ENCRYPTION_ALGORITHMS = ("sm4gcm", "aesgcm")
KEY_BYTES = {"sm4gcm": 16, "aesgcm": 32}
_NONCE = 12
_TAG = 16
# The order of the SM2 curve (GM/T 0003.5): private keys are in [1, n-2].
_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


class PartnerKeyError(ValueError):
    """A partner's key material is malformed (refused when it is registered)."""


def check_public_key(alg: str, public_hex: str) -> str:
    """The public key in canonical lower-case hex, or :class:`PartnerKeyError`."""
    try:
        raw = bytes.fromhex((public_hex or "").strip())
    except ValueError:
        raise PartnerKeyError("公钥须为十六进制") from None
    if alg == "sm2":
        if len(raw) != 65 or raw[0] != 4:
            raise PartnerKeyError("SM2 公钥须为未压缩点 04||X||Y（65 字节）")
    elif alg == "ed25519":
        if len(raw) != 32:
            raise PartnerKeyError("Ed25519 公钥须为 32 字节")
        Ed25519PublicKey.from_public_bytes(raw)
    else:
        raise PartnerKeyError(f"未知签名算法 {alg}")
    return raw.hex()


def check_encryption_key(alg: str, key_hex: str) -> str:
    try:
        raw = bytes.fromhex((key_hex or "").strip())
    except ValueError:
        raise PartnerKeyError("加密密钥须为十六进制") from None
    if alg not in KEY_BYTES:
        raise PartnerKeyError(f"未知加密算法 {alg}")
    if len(raw) != KEY_BYTES[alg]:
        raise PartnerKeyError(f"{alg} 密钥须为 {KEY_BYTES[alg]} 字节")
    return raw.hex()


def partner_keypair(alg: str) -> tuple[str, str]:
    """(private hex, public hex) of a fresh key pair (simulator, tests)."""
    if alg == "sm2":
        private_hex = f"{secrets.randbelow(_SM2_N - 2) + 1:064x}"
        if sm2_openssl.available():
            return private_hex, sm2_openssl.public_key(private_hex).hex()
        from gmalg import SM2

        return private_hex, SM2().generate_pk(bytes.fromhex(private_hex)).hex()
    if alg == "ed25519":
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return private.hex(), public.hex()
    raise PartnerKeyError(f"未知签名算法 {alg}")


def new_encryption_key(alg: str) -> str:
    return os.urandom(KEY_BYTES[alg]).hex()


def partner_sign(alg: str, private_hex: str, data: bytes) -> bytes:
    """A partner's signature of ``data`` (SM2 ``r||s`` 64 bytes, or Ed25519 64 bytes)."""
    if alg == "sm2":
        if sm2_openssl.available():
            return sm2_openssl.sign(private_hex, data, uid=crypto.SM2_UID)
        from gmalg import SM2

        sk = bytes.fromhex(private_hex)
        r, s = SM2(sk=sk, pk=SM2().generate_pk(sk), uid=crypto.SM2_UID).sign(data)
        return r.rjust(32, bytes(1)) + s.rjust(32, bytes(1))
    if alg == "ed25519":
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(private_hex)).sign(data)
    raise PartnerKeyError(f"未知签名算法 {alg}")


def partner_verify(alg: str, public_hex: str, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the partner's over ``data``; False for anything malformed."""
    if len(signature) != 64:
        return False
    if alg == "sm2":
        return crypto.verify(data, f"sm2:{signature.hex()}", public_key=public_hex)
    if alg == "ed25519":
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(signature, data)
            return True
        except (InvalidSignature, ValueError):
            return False
    return False


def ticket_seal(alg: str, key_hex: str, plaintext: bytes, aad: bytes) -> bytes:
    """``nonce(12) || ciphertext || tag(16)`` under the partner's ticket key."""
    key, nonce = bytes.fromhex(key_hex), os.urandom(_NONCE)
    if alg == "sm4gcm":
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        return nonce + enc.update(plaintext) + enc.finalize() + enc.tag
    if alg == "aesgcm":
        return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    raise PartnerKeyError(f"未知加密算法 {alg}")


def ticket_open(alg: str, key_hex: str, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of :func:`ticket_seal`; :class:`DecryptionError` when it was changed,
    made under another key, or is too short."""
    if len(sealed) < _NONCE + _TAG:
        raise DecryptionError("密文过短")
    key, nonce, body = bytes.fromhex(key_hex), sealed[:_NONCE], sealed[_NONCE:]
    try:
        if alg == "sm4gcm":
            dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, body[-_TAG:])).decryptor()
            dec.authenticate_additional_data(aad)
            return dec.update(body[:-_TAG]) + dec.finalize()
        if alg == "aesgcm":
            return AESGCM(key).decrypt(nonce, body, aad)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("密文校验失败") from exc
    raise DecryptionError(f"未知算法 {alg}")
