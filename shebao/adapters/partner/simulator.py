"""Loopback partner simulator (issue 13): three integrated channels in one WSGI app, mounted at
``/sim/partner`` in development and tests. Plain WSGI, state in SQLite (``sim_store``).

Partners: ``etax`` (广西电子税务局, signed tickets, SM2 + SM4-GCM), ``gov`` (政务服务 app,
OpenID Connect, answers checks with SM2) and ``bank`` (a bank's app, signed tickets,
Ed25519 + AES-256-GCM). Routes, relative to ``/sim/partner/<partner>``:

- ``GET /``: the partner's portal: the demo people, each with a button that signs them in at
  the partner and sends them on to the service (a ticket POSTed by a form, or the OIDC login);
- ``POST /go`` (form ``person``): that sign-in; ``POST /_tickets`` (JSON ``{"person": {...},
  "claims": {...}}``): a ticket for tests, ``{"ticket", "sid"}``;
- ``POST /check``: the back-channel check (``wire``): our signature verified with the
  service's public key, the answer signed with the partner's key; every check recorded;
- ``POST /_revoke`` (JSON ``{"sid"}``, or ``{}`` for all): the partner signs people out;
- ``POST /_control`` (JSON ``{"mode": "ok" | "down"}``): ``down`` answers checks 503;
- ``GET /_registration``: what the service's back office registers for the partner (its
  public key, ticket key, URLs); ``manage.py sso_register_simulated_partners`` reads it;
- OIDC (``gov``): ``/.well-known/openid-configuration``, ``/authorize``, ``/token``, ``/jwks``
  (``sim_oidc``).
"""

from __future__ import annotations

import base64
import html
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from shebao.adapters.partner import wire
from shebao.adapters.partner.sim_store import SimStore
from shebao.common import crypto, partner_crypto

PARTNERS = {
    "etax": {"name": "广西电子税务局", "protocol": "ticket", "sig_alg": "sm2", "enc_alg": "sm4gcm"},
    "gov": {"name": "广西政务服务", "protocol": "oidc", "sig_alg": "sm2", "enc_alg": "sm4gcm"},
    "bank": {"name": "合作银行", "protocol": "ticket", "sig_alg": "ed25519", "enc_alg": "aesgcm"},
}
AUDIENCE = "shebao-h5"


def demo_persons() -> list[dict[str, str]]:
    from shebao.core.demo_data import DEMO_PEOPLE, demo_id

    return [{"name": p[0], "id_type": "201", "id_number": demo_id(p), "nationality": "CHN", "mobile": p[4] or "13912345670"}
            for p in DEMO_PEOPLE if p[9]]


class Request:
    def __init__(self, environ):
        self.environ = environ
        self.method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(min(length, 65536)) if length else b""
        self.base = environ.get("SCRIPT_NAME", "")
        self.query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def cookie(self, name: str) -> str:
        for part in self.environ.get("HTTP_COOKIE", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return ""

    def header(self, name: str) -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), "")


Response = tuple[str, list[tuple[str, str]], bytes]


def respond_json(data: Any, status: str = "200 OK", headers: list[tuple[str, str]] | None = None) -> Response:
    return status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(data, ensure_ascii=False).encode()


def respond_html(body: str, status: str = "200 OK", headers: list[tuple[str, str]] | None = None) -> Response:
    page = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">'
            f'<meta name="viewport" content="width=device-width"><title>合作渠道模拟</title></head><body>{body}</body></html>')
    return status, [("Content-Type", "text/html; charset=utf-8"), ("Referrer-Policy", "no-referrer"), *(headers or [])], page.encode()


class PartnerSimulator:
    def __init__(self, state_path: Path, *, service_url: Callable[[], str], service_public_key: Callable[[], str]):
        self.store = SimStore(state_path, {name: spec for name, spec in PARTNERS.items()})
        self.service_url = service_url
        self.service_public_key = service_public_key

    def __call__(self, environ, start_response):
        request = Request(environ)
        partner, _, rest = environ.get("PATH_INFO", "/").lstrip("/").partition("/")
        if partner not in PARTNERS:
            status, headers, body = respond_json({"error": "unknown partner"}, "404 Not Found")
        else:
            status, headers, body = self.route(partner, "/" + rest, request)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def route(self, partner: str, path: str, request: Request) -> Response:
        from shebao.adapters.partner import sim_oidc

        routes = {
            ("GET", "/"): self.portal, ("POST", "/go"): self.go, ("POST", "/_tickets"): self.tickets, ("POST", "/check"): self.check,
            ("POST", "/_revoke"): self.revoke, ("POST", "/_control"): self.control, ("GET", "/_registration"): self.registration,
            ("GET", "/_checks"): lambda p, r: respond_json(self.store.checks(p)),
            **sim_oidc.routes(self),
        }
        handler = routes.get((request.method, path))
        if handler is None:
            return respond_json({"error": "not found"}, "404 Not Found")
        return handler(partner, request)

    def base_url(self, partner: str, request: Request) -> str:
        return f"{self.service_url()}{request.base}/{partner}"

    # ---- the partner's own pages
    def portal(self, partner: str, request: Request) -> Response:
        items = "".join(
            f'<li><form method="post" action="{request.base}/{partner}/go"><input type="hidden" name="person" value="{i}">'
            f'<button type="submit">以 {html.escape(p["name"])} 的身份进入社保费掌上办</button></form></li>'
            for i, p in enumerate(demo_persons()))
        return respond_html(f"<h1>{PARTNERS[partner]['name']}（模拟）</h1><p>已登录本渠道的演示用户：</p><ul>{items}</ul>")

    def go(self, partner: str, request: Request) -> Response:
        persons = demo_persons()
        try:
            person = persons[int(request.form().get("person", ""))]
        except (ValueError, IndexError):
            return respond_html("<p>无此用户</p>", "400 Bad Request")
        sid = self.store.session_open(partner, person)
        if PARTNERS[partner]["protocol"] == "oidc":
            cookie = ("Set-Cookie", f"simsid_{partner}={sid}; Path={request.base}/{partner}; HttpOnly; SameSite=Lax")
            return "303 See Other", [("Location", f"{self.service_url()}/sso/oidc/{partner}/start"), cookie], b""
        ticket = self.ticket_for(partner, sid, person, {})
        return respond_html(
            f'<h1>{PARTNERS[partner]["name"]}（模拟）</h1><p>即将前往个人社保费掌上办。</p>'
            f'<form method="post" action="{self.service_url()}/sso/ticket"><input type="hidden" name="ticket" value="{ticket}">'
            f'<button type="submit">继续前往社保费掌上办</button></form>')

    def ticket_for(self, partner: str, sid: str, person: dict[str, str], overrides: dict[str, Any]) -> str:
        keys = self.store.keys(partner)
        now = int(time.time())
        claims = {"aud": AUDIENCE, "iat": now, "exp": now + 60, "nonce": crypto.random_token(16), "sid": sid,
                  "return_url": f"{self.service_url()}/sim/partner/{partner}/", **person, **overrides}
        return wire.ticket_encode(issuer=partner, sig_alg=keys["sig_alg"], private_hex=keys["private"], enc_alg=keys["enc_alg"],
                                  key_hex=keys["enc_key"], claims=claims)

    def tickets(self, partner: str, request: Request) -> Response:
        data = request.json()
        person = data.get("person") or demo_persons()[0]
        sid = self.store.session_open(partner, person)
        return respond_json({"ticket": self.ticket_for(partner, sid, person, data.get("claims") or {}), "sid": sid})

    # ---- what the service asks
    def check(self, partner: str, request: Request) -> Response:
        if self.store.mode(partner) == "down":
            return respond_json({"error": "unavailable"}, "503 Service Unavailable")
        if not crypto.verify(request.body, request.header("X-Shebao-Signature"), public_key=self.service_public_key()):
            return respond_json({"error": "bad signature"}, "401 Unauthorized")
        asked = request.json()
        sid = str(asked.get("sid", ""))
        session = self.store.session(partner, sid)
        active = bool(session and session["active"])
        self.store.check_record(partner, sid, str(asked.get("function", "")), active)
        body = json.dumps({"sid": sid, "active": active, "ts": int(time.time()), "nonce": asked.get("nonce")}).encode()
        keys = self.store.keys(partner)
        signature = base64.b64encode(partner_crypto.partner_sign(keys["sig_alg"], keys["private"], body)).decode()
        return "200 OK", [("Content-Type", "application/json"), ("X-Partner-Signature", signature)], body

    def revoke(self, partner: str, request: Request) -> Response:
        sid = request.json().get("sid")
        return respond_json({"revoked": self.store.revoke(partner, str(sid) if sid else None)})

    def control(self, partner: str, request: Request) -> Response:
        mode = request.json().get("mode", "ok")
        if mode not in ("ok", "down"):
            return respond_json({"error": "mode"}, "400 Bad Request")
        self.store.set_mode(partner, mode)
        return respond_json({"mode": mode})

    def registration(self, partner: str, request: Request) -> Response:
        keys, spec, base = self.store.keys(partner), PARTNERS[partner], self.base_url(partner, request)
        data = {"identifier": partner, "name": spec["name"], "protocol": spec["protocol"], "signature_algorithm": keys["sig_alg"],
                "public_key": keys["public"], "encryption_algorithm": keys["enc_alg"], "encryption_key": keys["enc_key"],
                "allowed_return_urls": f"{base}/", "check_url": f"{base}/check"}
        if spec["protocol"] == "oidc":
            data.update({"oidc_issuer": base, "oidc_client_id": f"shebao-{partner}", "oidc_client_secret": keys["client_secret"],
                         "oidc_authorize_url": f"{base}/authorize", "oidc_token_url": f"{base}/token", "oidc_jwks_url": f"{base}/jwks"})
        return respond_json(data)


def make_partner_simulator(state_path: Path, *, service_url: Callable[[], str] | None = None,
                           service_public_key: Callable[[], str] | None = None) -> PartnerSimulator:
    """The simulator; by default the service's URL and public key come from the settings."""

    def _url() -> str:
        from django.conf import settings

        return settings.SELF_URL

    return PartnerSimulator(state_path, service_url=service_url or _url, service_public_key=service_public_key or crypto.public_key_hex)
