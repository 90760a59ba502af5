"""Partner channels and their tickets for the SSO tests (synthetic people only)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from shebao.adapters.partner import wire
from shebao.common import crypto, partner_crypto
from shebao.sso.channels import partner_channel_save
from shebao.sso.models import PartnerChannel
from tests import actors

_seq = itertools.count(1)
RETURN_URL = "https://etax.example.cn/back"


@dataclass
class Partner:
    """A registered channel and the partner's own halves of its keys."""

    channel: PartnerChannel
    private_key: str

    def ticket(self, *, now: dt.datetime, **claims) -> str:
        """A ticket of this partner: a fresh nonce, issued ``now``, 60 s, our audience."""
        body = {"aud": "shebao-h5", "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 60,
                "nonce": crypto.random_token(16), "sid": f"sid-{crypto.random_token(9)}", **claims}
        return self.sign(body)

    def sign(self, claims: dict, *, key_hex: str | None = None) -> str:
        c = self.channel
        return wire.ticket_encode(issuer=c.identifier, sig_alg=c.signature_algorithm, private_hex=self.private_key,
                                  enc_alg=c.encryption_algorithm, key_hex=key_hex or c.encryption_key, claims=claims)


def partner_create(*, sig_alg: str = "sm2", enc_alg: str = "sm4gcm", identifier: str = "", enabled: bool = True,
                   check_url: str = "http://127.0.0.1:9/check", now: dt.datetime) -> Partner:
    private, public = partner_crypto.partner_keypair(sig_alg)
    channel = PartnerChannel(identifier=identifier or f"p{next(_seq)}", name="测试渠道", enabled=enabled, signature_algorithm=sig_alg,
                             public_key=public, encryption_algorithm=enc_alg, encryption_key=partner_crypto.new_encryption_key(enc_alg),
                             allowed_return_urls=RETURN_URL, check_url=check_url)
    return Partner(channel=partner_channel_save(channel=channel, previous=None, actor=actors.system("test"), now=now), private_key=private)


def signed_headers(partner: Partner, *, method: str, path: str, body: bytes = b"", now: dt.datetime, nonce: str | None = None,
                   idempotency_key: str | None = None) -> dict[str, str]:
    """The partner's signature headers for one API request (Django test client ``headers=``)."""
    import base64

    ts, nonce = str(int(now.timestamp())), nonce or crypto.random_token(12)
    signed = wire.api_signing_string(method=method, path=path, timestamp=ts, nonce=nonce, body=body)
    sig = base64.b64encode(partner_crypto.partner_sign(partner.channel.signature_algorithm, partner.private_key, signed)).decode()
    headers = {"X-Partner-Id": partner.channel.identifier, "X-Timestamp": ts, "X-Nonce": nonce, "X-Signature": sig}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return headers
