"""WeChat Pay API v3 cryptography for our side (interfaces.md §4.1, §4.5, §4.6).

* Request signature: ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`` signed with
  the merchant private key, RSA PKCS#1 v1.5 + SHA-256, base64, sent as
  ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"``.
* Response and notification signature: ``TIMESTAMP\\nNONCE\\nBODY\\n`` verified with
  the platform key named by ``Wechatpay-Serial``; ``|now − timestamp| ≥ 300 s`` is refused.
* ``paySign`` for ``getBrandWCPayRequest``: ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``.
* Notification resource: AEAD_AES_256_GCM, key = APIv3 key, IV = ``nonce``,
  AAD = ``associated_data``, data = base64(ciphertext ‖ 16-byte tag).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from collections.abc import Mapping

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
MAX_CLOCK_SKEW_SECONDS = 300  # wechatpay-go FiveMinute: reject when |now − timestamp| >= 300 s
_NONCE_ALPHABET = string.ascii_uppercase + string.digits


class SignatureInvalid(Exception):
    """Wechatpay-* headers that do not prove the body came from WeChat Pay.
    ``reason``: ``missing_header``, ``unknown_serial``, ``stale_timestamp`` or ``bad_signature``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def new_nonce(length: int = 32) -> str:
    """A random nonce of ``[A-Z0-9]`` (≤ 32 characters, as ``nonceStr`` allows)."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def load_private_key(pem: str) -> RSAPrivateKey:
    """The merchant API private key (``apiclient_key.pem``, PKCS#8 or PKCS#1 PEM)."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the WeChat Pay merchant key must be an RSA private key")
    return key


def load_public_key(pem: str) -> RSAPublicKey:
    """A WeChat Pay public key (微信支付公钥, SPKI PEM) or a platform certificate PEM."""
    data = pem.encode("ascii")
    key = x509.load_pem_x509_certificate(data).public_key() if b"BEGIN CERTIFICATE" in data else serialization.load_pem_public_key(data)
    if not isinstance(key, RSAPublicKey):
        raise ValueError("the WeChat Pay platform key must be an RSA public key")
    return key


def rsa_sign(private_key: RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64 — the one signature scheme of API v3."""
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def rsa_verify(public_key: RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def request_message(method: str, path_with_query: str, timestamp: int | str, nonce: str, body: bytes) -> bytes:
    """WeChat Pay API v3 §4.1 request message: five lines, each ``\\n``-terminated; BODY empty for GET."""
    return f"{method.upper()}\n{path_with_query}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"


def response_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """WeChat Pay API v3 §4.1 response/notification message: ``TIMESTAMP\\nNONCE\\nBODY\\n``."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def authorization_header(
    *, mchid: str, serial_no: str, private_key: RSAPrivateKey, method: str, path_with_query: str, body: bytes,
    timestamp: int, nonce: str,
) -> str:
    """The ``Authorization`` header value of one request (WeChat Pay API v3 §4.1 signature)."""
    signature = rsa_sign(private_key, request_message(method, path_with_query, timestamp, nonce, body))
    return (
        f'{SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def pay_sign(private_key: RSAPrivateKey, *, app_id: str, timestamp: str, nonce: str, package: str) -> str:
    """``paySign`` of ``getBrandWCPayRequest`` (§4.5): four lines, each ``\\n``-terminated; signType not signed."""
    return rsa_sign(private_key, f"{app_id}\n{timestamp}\n{nonce}\n{package}\n".encode())


def normalize_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case, dash-separated names; accepts Django ``request.META`` keys (``HTTP_WECHATPAY_SIGNATURE``)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if key.startswith("http_"):
            key = key[5:]
        out[key.replace("_", "-")] = value
    return out


def verify_signed(headers: Mapping[str, str], body: bytes, *, public_keys: Mapping[str, RSAPublicKey], now: float) -> str:
    """Check the Wechatpay-* headers of a response or notification; return its serial.

    Rule (§4.1): all of ``Wechatpay-Timestamp/Nonce/Signature/Serial`` present; the serial
    names a key we trust; ``|now − timestamp| < 300 s``; the signature verifies over
    ``TIMESTAMP\\nNONCE\\nBODY\\n``. ``headers`` must be normalised (``normalize_headers``)."""
    timestamp = headers.get("wechatpay-timestamp", "")
    nonce = headers.get("wechatpay-nonce", "")
    signature = headers.get("wechatpay-signature", "")
    serial = headers.get("wechatpay-serial", "")
    if not (timestamp and nonce and signature and serial):
        raise SignatureInvalid("missing_header")
    signature_type = headers.get("wechatpay-signature-type")
    if signature_type is not None and signature_type != SCHEMA:
        raise SignatureInvalid("bad_signature")
    key = public_keys.get(serial)
    if key is None:
        raise SignatureInvalid("unknown_serial")
    if not timestamp.isascii() or not timestamp.isdigit() or abs(now - int(timestamp)) >= MAX_CLOCK_SKEW_SECONDS:
        raise SignatureInvalid("stale_timestamp")
    if not rsa_verify(key, response_message(timestamp, nonce, body), signature):
        raise SignatureInvalid("bad_signature")
    return serial


def decrypt_resource(apiv3_key: str, *, nonce: str, associated_data: str, ciphertext_b64: str) -> bytes:
    """AEAD_AES_256_GCM decryption of a notification resource (§4.6); ``InvalidTag`` or ``ValueError`` when forged."""
    key = apiv3_key.encode("ascii")
    if len(key) != 32:
        raise ValueError("the APIv3 key must be 32 ASCII characters")
    data = base64.b64decode(ciphertext_b64, validate=True)
    return AESGCM(key).decrypt(nonce.encode("utf-8"), data, associated_data.encode("utf-8") if associated_data else None)


DECRYPT_ERRORS = (InvalidTag, ValueError, binascii.Error)  # what a forged or damaged resource raises


def signed_path(raw_path: str, base_path: str) -> str:
    """The path-with-query to sign: relative to the base URL's path. WeChat Pay's gateway
    is at the root (``/v3/...`` on the wire is what is signed); a base URL with a path —
    the development simulator mounted at ``…/sim/wxpay`` — sees ``/v3/...`` as well."""
    base = base_path.rstrip("/")
    return raw_path[len(base):] if base and raw_path.startswith(base + "/") else raw_path


class SigningTransport(httpx.BaseTransport):
    """Adds the §4.1 ``Authorization`` header to each request at the last moment, so
    the signature covers exactly the bytes and the path-with-query sent on the wire
    (less ``base_path``, the path of the configured base URL: see ``signed_path``)."""

    def __init__(self, inner: httpx.BaseTransport, *, mchid: str, serial_no: str, private_key: RSAPrivateKey, clock,
                 base_path: str = ""):
        self._inner = inner
        self._mchid, self._serial_no, self._key, self._clock = mchid, serial_no, private_key, clock
        self._base_path = base_path

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        request.headers["Authorization"] = authorization_header(
            mchid=self._mchid,
            serial_no=self._serial_no,
            private_key=self._key,
            method=request.method,
            path_with_query=signed_path(request.url.raw_path.decode("ascii"), self._base_path),
            body=body,
            timestamp=int(self._clock().timestamp()),
            nonce=new_nonce(),
        )
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()

    def __repr__(self) -> str:
        return f"SigningTransport(mchid={self._mchid!r}, serial_no={self._serial_no!r})"
