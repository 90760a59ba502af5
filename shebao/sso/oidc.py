"""OpenID Connect partners (issue 13): authorisation code with PKCE (S256), the ID token's
signature checked against the partner's JWKS and its claims (iss, aud, exp, iat, nonce) by
well-kept libraries -- Authlib builds the authorisation request and the token request
(RFC 6749, RFC 7636), joserfc (Authlib's JOSE implementation) verifies the JWT -- never by
hand. The HTTP calls go through the partner adapter (``OutgoingHttp``: timeout, logging; no Authlib session).

The state, the nonce and the code verifier wait in the person's session (``OIDC_SESSION_KEY``)
for at most ``PENDING_SECONDS`` and are used once."""

from __future__ import annotations

import json
import time
from typing import Any

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from shebao.adapters.partner import PartnerUnavailable, oidc_token_and_keys
from shebao.sso.errors import SsoRefused
from shebao.sso.models import PartnerChannel

OIDC_SESSION_KEY = "sso_oidc"
PENDING_SECONDS = 600
ID_TOKEN_ALGORITHMS = ["ES256", "RS256", "EdDSA"]


def oidc_begin(*, channel: PartnerChannel, redirect_uri: str) -> tuple[str, dict[str, Any]]:
    """(authorisation URL, what to keep in the session until the callback)."""
    pending = {"channel": channel.identifier, "state": generate_token(30), "nonce": generate_token(32),
               "verifier": generate_token(64), "redirect_uri": redirect_uri, "at": int(time.time())}
    url = prepare_grant_uri(channel.oidc_authorize_url, channel.oidc_client_id, "code", redirect_uri=redirect_uri, scope="openid",
                            state=pending["state"], nonce=pending["nonce"], code_challenge=create_s256_code_challenge(pending["verifier"]),
                            code_challenge_method="S256")
    return url, pending


def oidc_finish(*, channel: PartnerChannel, pending: dict[str, Any] | None, code: str, state: str, request_id: str = "") -> dict[str, Any]:
    """The verified ID token claims for the callback's ``code`` and ``state``."""
    refuse = lambda detail="": SsoRefused("oidc_failed", detail, channel=channel.identifier)  # noqa: E731
    if not pending or pending.get("channel") != channel.identifier or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        raise refuse()
    if not code or state != pending["state"]:
        raise refuse()
    body = prepare_token_request("authorization_code", code=code, redirect_uri=pending["redirect_uri"], code_verifier=pending["verifier"],
                                 client_id=channel.oidc_client_id, client_secret=channel.oidc_client_secret)
    try:
        id_token, jwks = oidc_token_and_keys(token_url=channel.oidc_token_url, jwks_url=channel.oidc_jwks_url, token_request=body,
                                             timeout=settings.SSO["CHECK_TIMEOUT_SECONDS"], request_id=request_id)
        keys = KeySet.import_key_set(jwks)
    except (PartnerUnavailable, ValueError, JoseError):
        raise refuse() from None
    try:
        token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=settings.SSO["CLOCK_SKEW_SECONDS"], iss={"essential": True, "value": channel.oidc_issuer},
            aud={"essential": True, "value": channel.oidc_client_id}, exp={"essential": True}, iat={"essential": True},
            nonce={"essential": True, "value": pending["nonce"]}, sub={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError, json.JSONDecodeError):
        raise refuse() from None
    return dict(token.claims)
