"""The one crypto module (GB/T 39786 at the application layer).

Suite ``sm`` (default): SM4-GCM for personal data at rest, HMAC-SM3 for blind
indexes, SM3 for digests and hash chains, SM2 (GM/T 0003, uid
``1234567812345678``) for signatures. Suite ``intl``: AES-256-GCM,
HMAC-SHA-256, SHA-256, ECDSA P-256. The suite is the setting
``SHEBAO_CRYPTO_SUITE``; every ciphertext and signature carries its algorithm
tag, so data written under one suite stays readable after a switch.

SM3/SM4 come from ``cryptography`` (OpenSSL). SM2 signatures come from the
system OpenSSL's libcrypto through :mod:`shebao.common.sm2_openssl` (ctypes,
~0.5 ms a signature) when it is there and passes its self-test, else from the
pure-Python ``gmalg`` (CSPRNG nonces, checks C3; ~40 ms) -- never ``gmssl``
(see docs/architecture.md, security). Both make the same ``sm2:<hex r||s>``,
and each verifies the other's; :func:`sm2_backend` says which one is in use.

Production in a 密评 scope should sign with a certified crypto module (密码机)
instead: the system OpenSSL is used here for speed, ``gmalg`` as the fallback,
and neither is a certified module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from shebao.common import sm2_openssl

SM2_UID = b"1234567812345678"
_NONCE_BYTES = 12
_TAG_BYTES = 16


class DecryptionError(Exception):
    """A ciphertext was tampered with, or was made under another key."""


def _suite() -> str:
    return settings.SHEBAO_CRYPTO_SUITE


# ---------------------------------------------------------------- digests
def digest(data: bytes, *, suite: str | None = None) -> str:
    """Hex digest: SM3 (suite sm) or SHA-256 (suite intl)."""
    algo = hashes.SM3() if (suite or _suite()) == "sm" else hashes.SHA256()
    h = hashes.Hash(algo)
    h.update(data)
    return h.finalize().hex()


def digest_algorithm(suite: str | None = None) -> str:
    return "SM3" if (suite or _suite()) == "sm" else "SHA256"


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed, deterministic index of a personal value (HMAC-SM3).

    Always HMAC-SM3, whatever the suite: an index must stay the same across a
    suite switch or every lookup of existing data would miss. ``purpose``
    separates domains so equal values of different kinds (an ID number and a
    phone) never share an index."""
    key = bytes.fromhex(settings.SHEBAO_INDEX_KEY)
    h = crypto_hmac.HMAC(key, hashes.SM3())
    h.update(purpose.encode() + b"\x00" + value.encode())
    return h.finalize().hex()


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """Salted keyed hash for short secrets (SMS codes): ``salt$hex``.

    ASVS v5.0.0-6.5.2: a 6-digit code is never stored in clear."""
    salt = salt or os.urandom(16)
    key = bytes.fromhex(settings.SHEBAO_INDEX_KEY)
    mac = hmac.new(key, salt + secret.encode(), hashlib.sha256).hexdigest()
    return f"{salt.hex()}${mac}"


def check_secret(secret: str, stored: str) -> bool:
    salt_hex, _, _mac = stored.partition("$")
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    return bool(salt) and hmac.compare_digest(hash_secret(secret, salt=salt), stored)


# ---------------------------------------------------------------- encryption
def _sm4_key() -> bytes:
    return bytes.fromhex(settings.SHEBAO_PII_KEY)[:16]


def _aes_key() -> bytes:
    # The intl suite derives a 256-bit key from the same configured secret.
    return hashlib.sha256(b"shebao-aes-gcm" + bytes.fromhex(settings.SHEBAO_PII_KEY)).digest()


def encrypt(plaintext: str, *, aad: str) -> str:
    """Authenticated encryption of one field: ``sm4gcm:`` or ``aesgcm:`` + base64(nonce|ct|tag)."""
    nonce = os.urandom(_NONCE_BYTES)
    data = plaintext.encode()
    if _suite() == "sm":
        enc = Cipher(algorithms.SM4(_sm4_key()), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad.encode())
        body = enc.update(data) + enc.finalize() + enc.tag
        tag = "sm4gcm"
    else:
        body = AESGCM(_aes_key()).encrypt(nonce, data, aad.encode())
        tag = "aesgcm"
    return f"{tag}:{base64.b64encode(nonce + body).decode()}"


def decrypt(token: str, *, aad: str) -> str:
    tag, _, b64 = token.partition(":")
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise DecryptionError("密文格式错误") from exc
    nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    try:
        if tag == "sm4gcm":
            ct, gcm_tag = body[:-_TAG_BYTES], body[-_TAG_BYTES:]
            dec = Cipher(algorithms.SM4(_sm4_key()), modes.GCM(nonce, gcm_tag)).decryptor()
            dec.authenticate_additional_data(aad.encode())
            return (dec.update(ct) + dec.finalize()).decode()
        if tag == "aesgcm":
            return AESGCM(_aes_key()).decrypt(nonce, body, aad.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("密文校验失败") from exc
    raise DecryptionError(f"未知算法 {tag}")


# ---------------------------------------------------------------- signatures
def sm2_backend() -> str:
    """Which SM2 implementation :func:`sign` and :func:`verify` use: ``openssl`` or ``gmalg``."""
    return "openssl" if sm2_openssl.available() else "gmalg"


@lru_cache(maxsize=4)
def _sm2(private_hex: str):
    """gmalg's SM2 for a private key (the fallback backend)."""
    from gmalg import SM2

    sk = bytes.fromhex(private_hex)
    return SM2(sk=sk, pk=bytes.fromhex(_sm2_public_hex(private_hex)), uid=SM2_UID)


@lru_cache(maxsize=4)
def _sm2_public_hex(private_hex: str) -> str:
    if sm2_openssl.available():
        return sm2_openssl.public_key(private_hex).hex()
    from gmalg import SM2

    return SM2().generate_pk(bytes.fromhex(private_hex)).hex()


@lru_cache(maxsize=4)
def _ecdsa(private_hex: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int(private_hex, 16), ec.SECP256R1())


def public_key_hex(suite: str | None = None) -> str:
    """Our public key: the uncompressed point ``04||X||Y`` in hex (SM2 or P-256 by suite)."""
    if (suite or _suite()) == "sm":
        return _sm2_public_hex(settings.SHEBAO_SM2_PRIVATE_KEY)
    from cryptography.hazmat.primitives import serialization

    pub = _ecdsa(settings.SHEBAO_SM2_PRIVATE_KEY).public_key()
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint).hex()


def sign(data: bytes) -> str:
    """Signature ``sm2:<hex r||s>`` (SM2 with SM3, ZA over the default uid) or ``ecdsa:<hex der>``."""
    if _suite() == "sm":
        private_hex = settings.SHEBAO_SM2_PRIVATE_KEY
        if sm2_openssl.available():
            wire = sm2_openssl.sign(private_hex, data, uid=SM2_UID)
        else:
            r, s = _sm2(private_hex).sign(data)
            # gmalg returns r and s at minimal length; the wire form is 32+32 bytes.
            wire = r.rjust(32, bytes(1)) + s.rjust(32, bytes(1))
        return f"sm2:{wire.hex()}"
    der = _ecdsa(settings.SHEBAO_SM2_PRIVATE_KEY).sign(data, ec.ECDSA(hashes.SHA256()))
    return f"ecdsa:{der.hex()}"


def verify(data: bytes, signature: str, *, public_key: str | None = None) -> bool:
    """Check a signature made by :func:`sign` (public key hex defaults to ours)."""
    algo, _, hexsig = signature.partition(":")
    try:
        sig = bytes.fromhex(hexsig)
    except ValueError:
        return False
    if algo == "sm2":
        if len(sig) != 64:
            return False
        pk_hex = public_key or public_key_hex("sm")
        try:
            pk = bytes.fromhex(pk_hex)
        except ValueError:
            return False
        if sm2_openssl.available():
            return sm2_openssl.verify(pk, data, sig, uid=SM2_UID)
        from gmalg import SM2
        from gmalg.errors import GMError

        try:
            return SM2(pk=pk, uid=SM2_UID).verify(data, sig[:32], sig[32:])
        except (GMError, ValueError, IndexError, TypeError):  # a malformed public key
            return False
    if algo == "ecdsa":
        pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(public_key or public_key_hex("intl")))
        try:
            pub.verify(sig, data, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False
    return False


def random_token(nbytes: int = 16) -> str:
    """Opaque identifier for URLs (>= 128 bits from the OS CSPRNG, ASVS 11.5.1)."""
    return base64.urlsafe_b64encode(os.urandom(nbytes)).rstrip(b"=").decode()
