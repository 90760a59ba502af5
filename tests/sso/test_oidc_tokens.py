"""ID token checks of ``oidc.oidc_finish`` (joserfc): a token signed by a key not in the
partner's JWKS, for another client, with another nonce, from another issuer or expired is
refused; the partner's endpoints are stubbed here (the real flow: test_oidc.py)."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from shebao.sso import oidc
from shebao.sso.errors import SsoRefused
from shebao.sso.models import PartnerChannel

ISSUER = "https://gov.example.cn"
PARTNER_KEY = ECKey.generate_key("P-256", parameters={"kid": "gov-1"})


def _channel() -> PartnerChannel:
    return PartnerChannel(identifier="gov", oidc_issuer=ISSUER, oidc_client_id="shebao-gov", oidc_client_secret="s" * 24,
                          oidc_authorize_url=f"{ISSUER}/authorize", oidc_token_url=f"{ISSUER}/token", oidc_jwks_url=f"{ISSUER}/jwks")


def _finish(monkeypatch, *, key=PARTNER_KEY, **over):
    _, pending = oidc.oidc_begin(channel=_channel(), redirect_uri="http://testserver/cb")
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "shebao-gov", "sub": "gov-session-0001", "iat": now, "exp": now + 300, "nonce": pending["nonce"],
              "name": "张伟", **over}
    token = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)
    jwks = {"keys": [PARTNER_KEY.as_dict(private=False)]}
    monkeypatch.setattr(oidc, "oidc_token_and_keys", lambda **kwargs: (token, jwks))
    return oidc.oidc_finish(channel=_channel(), pending=pending, code="code-1", state=pending["state"])


def test_a_token_signed_with_the_partners_key_is_accepted(monkeypatch):
    assert _finish(monkeypatch)["sub"] == "gov-session-0001"


@pytest.mark.parametrize("case", ["other_key", "other_client", "other_nonce", "other_issuer", "expired"])
def test_a_bad_id_token_is_refused(monkeypatch, case):
    now = int(time.time())
    over = {"other_key": {"key": ECKey.generate_key("P-256", parameters={"kid": "gov-1"})}, "other_client": {"aud": "someone-else"},
            "other_nonce": {"nonce": "n" * 32}, "other_issuer": {"iss": "https://evil.example.com"},
            "expired": {"iat": now - 900, "exp": now - 600}}[case]
    with pytest.raises(SsoRefused) as refused:
        _finish(monkeypatch, **over)
    assert refused.value.code == "oidc_failed"
