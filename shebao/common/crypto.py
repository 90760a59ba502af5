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

Keys and rotation (ASVS 11.2.2, crypto agility)
-----------------------------------------------
Field keys and index keys are *keyrings*: ``{kid: key}`` with one current kid
(:func:`pii_keyring`, :func:`index_keyring`, built from the settings
``SHEBAO_PII_KEYS`` / ``SHEBAO_PII_CURRENT_KID`` and ``SHEBAO_INDEX_KEYS`` /
``SHEBAO_INDEX_CURRENT_KID``). The single keys of the first version
(``SHEBAO_PII_KEY``, ``SHEBAO_INDEX_KEY``) are kept as the keys of kid
:data:`LEGACY_KID`, so a database written before keyrings stays readable and a
deployment that never rotates needs no new setting. Writing always uses the
current kid; reading uses whichever kid the stored value names, so during a
rotation old and new values are both readable (``manage.py rotate_field_keys``
moves every row to the current kid; then the old key can be removed).

* A ciphertext is ``v2:<kid>:<alg>:<base64(nonce|ct|tag)>``. The associated
  data is ``v2|<kid>|<alg>|<aad>``: the header is authenticated, so neither the
  kid nor the algorithm can be changed to steer decryption. The model fields
  (:mod:`shebao.common.fields`) pass ``aad = "app.model.field|<row public id>"``,
  which binds each ciphertext to its row: a ciphertext copied into another row
  fails to decrypt (fails closed) instead of showing another person's data.
* The first version's ciphertexts ``<alg>:<base64>`` (no kid, associated data
  ``app.model.field`` only, so not bound to a row) are read with the legacy
  key and ``legacy_aad`` while ``SHEBAO_CRYPTO_LEGACY_READABLE`` is on. They
  are swappable between rows, which is why the rotate command rewrites them;
  once it reports none left, switch legacy reading off so an old ciphertext
  from a backup cannot be planted back.
* A blind index is ``<kid>:<hex HMAC-SM3>``. It must be deterministic per key,
  so a lookup during a rotation has to ask for every readable key's value:
  :func:`blind_index` returns a :class:`BlindIndex`, a ``str`` (the current
  kid's value, what gets stored) that also carries ``forms`` (the value under
  every readable kid, and the bare legacy hex). ``BlindIndexField`` turns
  ``field=index`` and ``field__in=[...]`` into an ``IN`` over all forms, so the
  call sites stay one line and find rows indexed under any readable key.
* Short secrets (:func:`hash_secret`, SMS codes, minutes-lived) carry no kid:
  they are hashed with the current index key and checked against every
  readable index key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

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


# ---------------------------------------------------------------- keyrings
LEGACY_KID = "k0"
"""The kid of the first version's single keys (``SHEBAO_PII_KEY``, ``SHEBAO_INDEX_KEY``)."""

KID_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
_MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class Keyring:
    """Readable keys by kid, and the kid new values are written with."""

    keys: Mapping[str, bytes]
    current: str

    def key(self, kid: str) -> bytes:
        try:
            return self.keys[kid]
        except KeyError:
            raise DecryptionError(f"密钥 {kid} 不可用") from None


@lru_cache(maxsize=16)
def _ring(name: str, single: str, many: tuple[tuple[str, str], ...], current: str) -> Keyring:
    keys: dict[str, bytes] = {}
    if single:
        keys[LEGACY_KID] = _key_bytes(name, LEGACY_KID, single)
    for kid, hex_key in many:
        if not KID_RE.fullmatch(kid):
            raise ImproperlyConfigured(f"{name}: 密钥编号 {kid!r} 只能是 1-16 位字母、数字、_ 或 -")
        keys[kid] = _key_bytes(name, kid, hex_key)
    if not keys:
        raise ImproperlyConfigured(f"{name}: 未配置密钥")
    current = current or (many[0][0] if many else LEGACY_KID)
    if current not in keys:
        raise ImproperlyConfigured(f"{name}: 当前密钥编号 {current} 不在密钥环中")
    return Keyring(keys=keys, current=current)


def _key_bytes(name: str, kid: str, hex_key: str) -> bytes:
    try:
        key = bytes.fromhex(hex_key)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: 密钥 {kid} 不是十六进制") from None
    if len(key) < _MIN_KEY_BYTES:
        raise ImproperlyConfigured(f"{name}: 密钥 {kid} 不足 {_MIN_KEY_BYTES} 字节")
    return key


def pii_keyring() -> Keyring:
    """Field-encryption keys (SM4 / AES): legacy ``SHEBAO_PII_KEY`` + ``SHEBAO_PII_KEYS``."""
    return _ring(
        "SHEBAO_PII_KEYS",
        getattr(settings, "SHEBAO_PII_KEY", ""),
        tuple(getattr(settings, "SHEBAO_PII_KEYS", {}).items()),
        getattr(settings, "SHEBAO_PII_CURRENT_KID", ""),
    )


def index_keyring() -> Keyring:
    """Blind-index keys (HMAC-SM3): legacy ``SHEBAO_INDEX_KEY`` + ``SHEBAO_INDEX_KEYS``."""
    return _ring(
        "SHEBAO_INDEX_KEYS",
        getattr(settings, "SHEBAO_INDEX_KEY", ""),
        tuple(getattr(settings, "SHEBAO_INDEX_KEYS", {}).items()),
        getattr(settings, "SHEBAO_INDEX_CURRENT_KID", ""),
    )


def legacy_readable() -> bool:
    """Whether first-version values (no kid, not row-bound) are still accepted."""
    return getattr(settings, "SHEBAO_CRYPTO_LEGACY_READABLE", True)


# ---------------------------------------------------------------- blind index
class BlindIndex(str):
    """A blind index: the ``str`` is the current kid's value (what is stored);
    ``forms`` is the value under every readable kid, current first (what a
    lookup must match during a rotation)."""

    forms: tuple[str, ...]


def _hmac_sm3(key: bytes, purpose: str, value: str) -> str:
    h = crypto_hmac.HMAC(key, hashes.SM3())
    h.update(purpose.encode() + b"\x00" + value.encode())
    return h.finalize().hex()


def blind_index(value: str, *, purpose: str) -> BlindIndex:
    """Keyed, deterministic index of a personal value: ``<kid>:<hex HMAC-SM3>``.

    Always HMAC-SM3, whatever the suite: an index must stay the same across a
    suite switch or every lookup of existing data would miss. ``purpose``
    separates domains so equal values of different kinds (an ID number and a
    phone) never share an index."""
    ring = index_keyring()
    kids = [ring.current, *(k for k in ring.keys if k != ring.current)]
    forms = [f"{kid}:{_hmac_sm3(ring.keys[kid], purpose, value)}" for kid in kids]
    if LEGACY_KID in ring.keys and legacy_readable():
        forms.append(_hmac_sm3(ring.keys[LEGACY_KID], purpose, value))  # first-version rows: bare hex
    index = BlindIndex(forms[0])
    index.forms = tuple(forms)
    return index


def blind_index_kid(stored: str) -> str | None:
    """The kid of a stored blind index; None for a first-version (bare hex) one."""
    kid, sep, _ = stored.partition(":")
    return kid if sep else None


def hash_secret(secret: str, *, salt: bytes | None = None, key: bytes | None = None) -> str:
    """Salted keyed hash for short secrets (SMS codes): ``salt$hex``.

    ASVS v5.0.0-6.5.2: a 6-digit code is never stored in clear. Keyed with the
    current index key (see the module docstring: no kid for minutes-lived values)."""
    salt = salt or os.urandom(16)
    if key is None:
        ring = index_keyring()
        key = ring.keys[ring.current]
    mac = hmac.new(key, salt + secret.encode(), hashlib.sha256).hexdigest()
    return f"{salt.hex()}${mac}"


def check_secret(secret: str, stored: str) -> bool:
    salt_hex, _, _mac = stored.partition("$")
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    if not salt:
        return False
    matches = [hmac.compare_digest(hash_secret(secret, salt=salt, key=key), stored) for key in index_keyring().keys.values()]
    return any(matches)


# ---------------------------------------------------------------- encryption
def _aes_key(key: bytes) -> bytes:
    # The intl suite derives a 256-bit key from the same configured secret.
    return hashlib.sha256(b"shebao-aes-gcm" + key).digest()


def _seal(key: bytes, alg: str, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    if alg == "sm4gcm":
        enc = Cipher(algorithms.SM4(key[:16]), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        return nonce + enc.update(plaintext) + enc.finalize() + enc.tag
    return nonce + AESGCM(_aes_key(key)).encrypt(nonce, plaintext, aad)


def _open(key: bytes, alg: str, b64: str, aad: bytes) -> str:
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise DecryptionError("密文格式错误") from exc
    nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    try:
        if alg == "sm4gcm":
            ct, gcm_tag = body[:-_TAG_BYTES], body[-_TAG_BYTES:]
            dec = Cipher(algorithms.SM4(key[:16]), modes.GCM(nonce, gcm_tag)).decryptor()
            dec.authenticate_additional_data(aad)
            return (dec.update(ct) + dec.finalize()).decode()
        if alg == "aesgcm":
            return AESGCM(_aes_key(key)).decrypt(nonce, body, aad).decode()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("密文校验失败") from exc
    raise DecryptionError(f"未知算法 {alg}")


def encrypt(plaintext: str, *, aad: str) -> str:
    """Authenticated encryption of one field under the current kid:
    ``v2:<kid>:sm4gcm:`` or ``v2:<kid>:aesgcm:`` + base64(nonce|ct|tag)."""
    ring = pii_keyring()
    alg = "sm4gcm" if _suite() == "sm" else "aesgcm"
    header = f"v2|{ring.current}|{alg}|"
    body = _seal(ring.keys[ring.current], alg, plaintext.encode(), (header + aad).encode())
    return f"v2:{ring.current}:{alg}:{base64.b64encode(body).decode()}"


def decrypt(token: str, *, aad: str, legacy_aad: str | None = None) -> str:
    """Decrypt a :func:`encrypt` token; a first-version token (``<alg>:<b64>``)
    is checked against ``legacy_aad`` (default ``aad``) with the legacy key."""
    if token.startswith("v2:"):
        _v, kid, alg, b64 = (token.split(":", 3) + ["", "", ""])[:4]
        if not KID_RE.fullmatch(kid) or not alg:
            raise DecryptionError("密文格式错误")
        return _open(pii_keyring().key(kid), alg, b64, f"v2|{kid}|{alg}|{aad}".encode())
    if not legacy_readable():
        raise DecryptionError("旧格式密文已停止读取")
    alg, _, b64 = token.partition(":")
    return _open(pii_keyring().key(LEGACY_KID), alg, b64, (aad if legacy_aad is None else legacy_aad).encode())


def ciphertext_kid(token: str) -> str | None:
    """The kid of a stored ciphertext; None for a first-version one."""
    if token.startswith("v2:"):
        return token.split(":", 2)[1]
    return None


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


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # upper case and digits without 0/O, 1/I: read aloud, typed from paper


def random_code(length: int) -> str:
    """A code a person reads from a letter or a screen (document numbers, verification codes):
    ``length`` characters of :data:`CODE_ALPHABET` from the OS CSPRNG (5 bits each)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
