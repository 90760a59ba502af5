"""The OpenID Connect provider of the partner simulator (the ``gov`` partner): authorisation
code with PKCE (S256 only), ID tokens signed ES256, a JWKS; the person is the one signed in at
the partner (the portal's cookie, or ``login_hint`` = the partner session for tests)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import ECKey

from shebao.adapters.partner.simulator import PARTNERS, Request, Response, respond_html, respond_json


def routes(sim) -> dict:
    return {
        ("GET", "/.well-known/openid-configuration"): lambda p, r: discovery(sim, p, r),
        ("GET", "/authorize"): lambda p, r: authorize(sim, p, r),
        ("POST", "/token"): lambda p, r: token(sim, p, r),
        ("GET", "/jwks"): lambda p, r: jwks(sim, p, r),
    }


def _oidc(partner: str) -> bool:
    return PARTNERS[partner]["protocol"] == "oidc"


def discovery(sim, partner: str, request: Request) -> Response:
    base = sim.base_url(partner, request)
    return respond_json({"issuer": base, "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
                         "jwks_uri": f"{base}/jwks", "response_types_supported": ["code"], "subject_types_supported": ["public"],
                         "id_token_signing_alg_values_supported": ["ES256"], "code_challenge_methods_supported": ["S256"],
                         "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"]})


def authorize(sim, partner: str, request: Request) -> Response:
    q = request.query
    if not _oidc(partner) or q.get("client_id") != f"shebao-{partner}" or q.get("response_type") != "code":
        return respond_html("<p>invalid_request</p>", "400 Bad Request")
    if "openid" not in q.get("scope", "").split() or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
        return respond_html("<p>invalid_request: PKCE S256 required</p>", "400 Bad Request")
    sid = request.cookie(f"simsid_{partner}") or q.get("login_hint", "")
    session = sim.store.session(partner, sid)
    if session is None or not session["active"]:
        return respond_html("<p>请先登录本渠道</p>", "401 Unauthorized")
    code = sim.store.code_issue(partner=partner, sid=sid, client_id=q["client_id"], redirect_uri=q.get("redirect_uri", ""),
                                challenge=q["code_challenge"], nonce=q.get("nonce", ""))
    location = f"{q.get('redirect_uri', '')}?{urlencode({'code': code, 'state': q.get('state', '')})}"
    return "302 Found", [("Location", location), ("Referrer-Policy", "no-referrer")], b""


def _client(sim, partner: str, request: Request, form: dict[str, str]) -> str | None:
    keys = sim.store.keys(partner)
    auth = request.header("Authorization")
    if auth.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    return client_id if client_id == f"shebao-{partner}" and secret == keys["client_secret"] else None


def token(sim, partner: str, request: Request) -> Response:
    form = request.form()
    client_id = _client(sim, partner, request, form)
    if client_id is None:
        return respond_json({"error": "invalid_client"}, "401 Unauthorized")
    if form.get("grant_type") != "authorization_code":
        return respond_json({"error": "unsupported_grant_type"}, "400 Bad Request")
    row = sim.store.code_redeem(partner, form.get("code", ""))
    verifier = form.get("code_verifier", "")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if row is None or row["client_id"] != client_id or row["redirect_uri"] != form.get("redirect_uri", "") or challenge != row["challenge"]:
        return respond_json({"error": "invalid_grant"}, "400 Bad Request")
    session = sim.store.session(partner, row["sid"])
    person = json.loads(session["person"])
    keys = sim.store.keys(partner)
    key = ECKey.import_key(json.loads(keys["jwk"]))
    now = int(time.time())
    claims = {"iss": sim.base_url(partner, request), "sub": row["sid"], "aud": client_id, "iat": now, "exp": now + 300,
              "nonce": row["nonce"], "sid": row["sid"], **person}
    id_token = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)
    return respond_json({"access_token": f"at-{row['code'][:12]}", "token_type": "Bearer", "expires_in": 300, "id_token": id_token,
                         "scope": "openid"}, headers=[("Cache-Control", "no-store")])


def jwks(sim, partner: str, request: Request) -> Response:
    key = ECKey.import_key(json.loads(sim.store.keys(partner)["jwk"]))
    return respond_json({"keys": [key.as_dict(private=False)]})
