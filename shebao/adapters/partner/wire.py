"""The wire formats between the service and its partner channels (issue 13), shared by the
service (``shebao.sso``) and the partner simulator; no Django models here.

Signed ticket (for partners without OpenID Connect)
---------------------------------------------------
``<header>.<sealed>.<signature>``, each part base64url without padding:

* ``header``: JSON ``{"v": 1, "iss": <channel identifier>, "alg": "sm2"|"ed25519",
  "enc": "sm4gcm"|"aesgcm"}``;
* ``sealed``: ``nonce(12) || ciphertext || tag(16)`` of the claims (JSON, UTF-8) under the
  channel's ticket key, the header's base64url text as associated data, so the header cannot
  be swapped under the ciphertext;
* ``signature``: the partner's signature over ``<header>.<sealed>`` (encrypt, then sign: the
  signature is checked before anything is decrypted).

Claims: ``aud`` (our audience), ``iat`` and ``exp`` (epoch seconds, ``exp - iat`` at most 60),
``nonce`` (once only), ``sid`` (the partner's session, opaque), ``name``, ``id_type`` (the
IdType code), ``id_number``, ``nationality`` (ISO 3166 alpha-3, e.g. ``CHN``), ``mobile`` and
optionally ``return_url``, ``person_type``.

Back-channel check (we ask the partner whether the person is still signed in there)
------------------------------------------------------------------------------------
``POST <check_url>`` with JSON ``{"sid", "function", "ts", "nonce"}`` and the header
``X-Shebao-Signature`` (our signature, ``shebao.common.crypto.sign``, over the body). The
partner answers 200 with JSON ``{"sid", "active": bool, "ts", "nonce"}`` (our nonce echoed)
and ``X-Partner-Signature`` (base64 of its signature over the answer's body).

Signed partner API request (the partner calls ``/api/v1/...``)
--------------------------------------------------------------
Headers ``X-Partner-Id``, ``X-Timestamp`` (epoch seconds), ``X-Nonce`` (8-64 characters,
once only) and ``X-Signature`` (base64 of the partner's signature over
:func:`api_signing_string`); writes also carry ``Idempotency-Key``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from shebao.common import partner_crypto

MAX_TICKET_CHARS = 8192
TICKET_VERSION = 1


class TicketFormatError(ValueError):
    """Not a ticket of this format (or one too large to read)."""


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise TicketFormatError("票据格式错误")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TicketFormatError("票据格式错误") from None


@dataclass(frozen=True)
class Envelope:
    header: dict[str, Any]
    header_part: str
    sealed: bytes
    signature: bytes
    signed_part: bytes

    @property
    def issuer(self) -> str:
        return str(self.header.get("iss", ""))


def ticket_encode(*, issuer: str, sig_alg: str, private_hex: str, enc_alg: str, key_hex: str, claims: dict[str, Any]) -> str:
    """A partner's ticket (the simulator's and the tests' side)."""
    header = b64u(json.dumps({"v": TICKET_VERSION, "iss": issuer, "alg": sig_alg, "enc": enc_alg}, separators=(",", ":")).encode())
    sealed = b64u(partner_crypto.ticket_seal(enc_alg, key_hex, json.dumps(claims, ensure_ascii=False).encode(), header.encode()))
    signed = f"{header}.{sealed}"
    return f"{signed}.{b64u(partner_crypto.partner_sign(sig_alg, private_hex, signed.encode()))}"


def ticket_parse(token: str) -> Envelope:
    """The parts of a ticket, not yet verified."""
    token = (token or "").strip()
    if len(token) > MAX_TICKET_CHARS:
        raise TicketFormatError("票据过长")
    parts = token.split(".")
    if len(parts) != 3:
        raise TicketFormatError("票据格式错误")
    try:
        header = json.loads(unb64u(parts[0]))
    except (ValueError, RecursionError):
        raise TicketFormatError("票据格式错误") from None
    if not isinstance(header, dict) or header.get("v") != TICKET_VERSION or not isinstance(header.get("iss"), str):
        raise TicketFormatError("票据格式错误")
    return Envelope(header=header, header_part=parts[0], sealed=unb64u(parts[1]), signature=unb64u(parts[2]),
                    signed_part=f"{parts[0]}.{parts[1]}".encode())


def ticket_claims(envelope: Envelope, *, enc_alg: str, key_hex: str) -> dict[str, Any]:
    """The decrypted claims (``DecryptionError`` if changed or under another key)."""
    plain = partner_crypto.ticket_open(enc_alg, key_hex, envelope.sealed, envelope.header_part.encode())
    try:
        claims = json.loads(plain)
    except (ValueError, RecursionError):
        raise TicketFormatError("票据内容格式错误") from None
    if not isinstance(claims, dict):
        raise TicketFormatError("票据内容格式错误")
    return claims


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def api_signing_string(*, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What a partner signs for one API request: method, path (no query), timestamp, nonce and
    the SHA-256 of the body, one per line."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{body_digest(body)}".encode()
