"""Loopback simulator of WeChat web authorisation (interfaces.md §1, contract §1.8).

A plain WSGI app (no Django at request time; only the default appid/secret are
read from ``settings.WECHAT``, lazily). Paths are relative to its mount point:

* ``GET  /open/connect/oauth2/authorize``        — the authorisation page (test personas)
* ``POST /open/connect/oauth2/authorize/choose`` — the persona choice → 302 to ``redirect_uri``
* ``GET  /api/sns/oauth2/access_token``          — code → openid, errcode JSON on HTTP 200
* ``GET  /api/sns/oauth2/refresh_token``         — refresh_token → a new access_token (same openid, scope, refresh_token)
* ``GET  /api/sns/auth``                         — is this (access_token, openid) pair valid?
* ``GET  /api/sns/userinfo``                     — the persona's profile, for ``snsapi_userinfo`` tokens only
* ``POST /_control``                             — fault switch for tests: ``{"mode": "ok"|"system_error"|"gateway_error"}``

Codes are single-use and live 5 minutes, access tokens 7200 s, refresh tokens
30 days (from the code exchange; refreshing does not extend them); state is kept in SQLite (transactions
with ``BEGIN IMMEDIATE``), so several threads and processes may share one file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

CODE_TTL_SECONDS = 300
ACCESS_TOKEN_TTL_SECONDS = 7200
REFRESH_TOKEN_TTL_SECONDS = 30 * 86400
SCOPES = ("snsapi_base", "snsapi_userinfo")
MODES = ("ok", "system_error", "gateway_error")
DENY = "deny"
_STATE_RE = re.compile(r"[A-Za-z0-9]{0,128}")
# Fixed key: openids stay the same across restarts and state resets, like real ones.
_OPENID_KEY = b"shebao-wechat-simulator-openid-v1"


@dataclass(frozen=True)
class Persona:
    label: str
    bound_to_open_platform: bool = False  # unionid only when the account is bound (§1.3)
    snapshot: bool = False  # snapshot-page virtual account (§1.5)


PERSONAS: dict[str, Persona] = {
    "jia": Persona("微信用户甲"),
    "yi": Persona("微信用户乙", bound_to_open_platform=True),
    "snapshot": Persona("快照页用户", snapshot=True),
}

_CSS = (
    "body{margin:0;font:16px/1.5 -apple-system,'PingFang SC','Microsoft YaHei',sans-serif;background:#ededed;color:#191919}"
    "header{background:#07c160;color:#fff;padding:12px 16px;font-size:17px}"
    "main{padding:16px}.note{color:#888;font-size:13px}.card{background:#fff;border-radius:8px;padding:16px;margin:12px 0}"
    "button{display:block;width:100%;margin:8px 0;padding:12px;border:0;border-radius:8px;font-size:17px;background:#07c160;color:#fff}"
    "button.deny{background:#f2f2f2;color:#fa5151}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()


def persona_openid(appid: str, persona: str) -> str:
    """The openid this simulator gives ``persona`` under ``appid``: deterministic per
    (appid, persona), 28 characters starting with "o" like WeChat's."""
    return _derived_id(f"openid:{appid}:{persona}")


def _derived_id(label: str) -> str:
    digest = hmac.new(_OPENID_KEY, label.encode(), hashlib.sha256).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


class _Store:
    """SQLite state shared by threads (a lock) and processes (SQLite file locks)."""

    def __init__(self, path: Path):
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS codes (code TEXT PRIMARY KEY, appid TEXT NOT NULL, persona TEXT NOT NULL,"
                       " scope TEXT NOT NULL, issued_at REAL NOT NULL, used_at REAL)")
            db.execute("CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, kind TEXT NOT NULL, appid TEXT NOT NULL,"
                       " persona TEXT NOT NULL, scope TEXT NOT NULL, issued_at REAL NOT NULL, refresh_token TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS control (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: the lock serialises threads, BEGIN IMMEDIATE serialises processes."""
        with self._lock, closing(sqlite3.connect(self._path, timeout=10, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def issue_code(self, *, appid: str, persona: str, scope: str, now: float) -> str:
        code = secrets.token_hex(16)
        with self._tx() as db:
            db.execute("DELETE FROM codes WHERE issued_at < ?", (now - 86400,))
            db.execute("INSERT INTO codes (code, appid, persona, scope, issued_at) VALUES (?, ?, ?, ?, ?)",
                       (code, appid, persona, scope, now))
        return code

    def consume_code(self, *, code: str, appid: str, now: float) -> tuple[int, str, str]:
        """Return (errcode, persona, scope); a code works once, within 5 minutes, for its own appid."""
        with self._tx() as db:
            row = db.execute("SELECT appid, persona, scope, issued_at, used_at FROM codes WHERE code = ?", (code,)).fetchone()
            if row is None or row[0] != appid:
                return 40029, "", ""
            if row[4] is not None:
                return 40163, "", ""
            if now - row[3] > CODE_TTL_SECONDS:
                return 40029, "", ""
            db.execute("UPDATE codes SET used_at = ? WHERE code = ?", (now, code))
            return 0, row[1], row[2]

    def issue_tokens(self, *, appid: str, persona: str, scope: str, now: float) -> tuple[str, str]:
        """A new (access_token, refresh_token) pair after a code exchange."""
        access, refresh = secrets.token_urlsafe(64), secrets.token_urlsafe(64)
        with self._tx() as db:
            db.execute("DELETE FROM tokens WHERE issued_at < ?", (now - 2 * REFRESH_TOKEN_TTL_SECONDS,))
            db.executemany("INSERT INTO tokens (token, kind, appid, persona, scope, issued_at, refresh_token)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(access, "access", appid, persona, scope, now, refresh),
                            (refresh, "refresh", appid, persona, scope, now, None)])
        return access, refresh

    def refresh(self, *, refresh_token: str, appid: str, now: float) -> tuple[int, str, str, str]:
        """Return (errcode, access_token, persona, scope): a new access token under a live refresh token."""
        with self._tx() as db:
            row = db.execute("SELECT appid, persona, scope, issued_at FROM tokens WHERE token = ? AND kind = 'refresh'",
                             (refresh_token,)).fetchone()
            if row is None or row[0] != appid:
                return 40030, "", "", ""
            if now - row[3] > REFRESH_TOKEN_TTL_SECONDS:
                return 42002, "", "", ""
            access = secrets.token_urlsafe(64)
            db.execute("INSERT INTO tokens (token, kind, appid, persona, scope, issued_at, refresh_token)"
                       " VALUES (?, 'access', ?, ?, ?, ?, ?)", (access, appid, row[1], row[2], now, refresh_token))
            return 0, access, row[1], row[2]

    def access_token(self, token: str) -> tuple[str, str, str, float] | None:
        """(appid, persona, scope, issued_at) of an access token, or None when unknown."""
        with self._tx() as db:
            row = db.execute("SELECT appid, persona, scope, issued_at FROM tokens WHERE token = ? AND kind = 'access'",
                             (token,)).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    def get_mode(self) -> str:
        with self._tx() as db:
            row = db.execute("SELECT value FROM control WHERE key = 'mode'").fetchone()
        return row[0] if row else "ok"

    def set_mode(self, mode: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO control (key, value) VALUES ('mode', ?)", (mode,))


_ERRMSG = {-1: "system error", 40001: "invalid credential, access_token is invalid or not latest",
           40002: "invalid grant_type", 40003: "invalid openid", 40013: "invalid appid", 40029: "invalid code",
           40030: "invalid refresh_token", 40125: "invalid appsecret", 40163: "code been used",
           41001: "access_token missing", 41003: "refresh_token missing", 41008: "missing code",
           41009: "missing openid", 42001: "access_token expired", 42002: "refresh_token expired",
           48001: "api unauthorized"}

Response = tuple[str, list[tuple[str, str]], bytes]


class WechatSimulator:
    """The WSGI app; see the module docstring for its routes."""

    def __init__(self, state_path: Path, *, appid: str | None, secret: str | None, now: Callable[[], float]):
        self._store = _Store(state_path)
        self._appid, self._secret, self._now = appid, secret, now

    def _credentials(self) -> tuple[str, str]:
        if self._appid is None or self._secret is None:
            from django.conf import settings  # defaults only, read on first use

            self._appid = self._appid if self._appid is not None else settings.WECHAT["APPID"]
            self._secret = self._secret if self._secret is not None else settings.WECHAT["SECRET"]
        return self._appid, self._secret

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        routes = {
            ("GET", "/open/connect/oauth2/authorize"): self._authorize_page,
            ("POST", "/open/connect/oauth2/authorize/choose"): self._choose,
            ("GET", "/api/sns/oauth2/access_token"): self._access_token,
            ("GET", "/api/sns/oauth2/refresh_token"): self._refresh_token,
            ("GET", "/api/sns/auth"): self._auth,
            ("GET", "/api/sns/userinfo"): self._userinfo,
            ("POST", "/_control"): self._control,
        }
        handler = routes.get((method, path))
        if handler is None:
            known = any(p == path for _, p in routes)
            status, headers, body = ("405 Method Not Allowed" if known else "404 Not Found"), [("Content-Type", "text/plain")], b""
        else:
            status, headers, body = handler(environ)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    # --- open.weixin.qq.com -------------------------------------------------------------

    def _check_authorize(self, params: dict[str, str]) -> str | None:
        """Parameter rules of the authorize URL (§1.2); a Chinese hint when one is broken."""
        redirect = urlsplit(params.get("redirect_uri", ""))
        if params.get("appid") != self._credentials()[0]:
            return "appid 参数错误"
        if redirect.scheme not in ("http", "https") or not redirect.netloc:
            return "redirect_uri 参数错误"
        if params.get("response_type") != "code":
            return "response_type 参数错误"
        if params.get("scope") not in SCOPES:
            return "scope 参数错误或没有 scope 权限"
        state = params.get("state", "")
        if not _STATE_RE.fullmatch(state):
            return "state 参数错误"
        return None

    def _authorize_page(self, environ: dict) -> Response:
        params = _single(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        problem = self._check_authorize(params)
        if problem:
            return _error_page(problem)
        action = html.escape(environ.get("SCRIPT_NAME", "") + "/open/connect/oauth2/authorize/choose")
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(params.get(k, ""))}">'
            for k in ("appid", "redirect_uri", "response_type", "scope", "state")
        )
        buttons = "".join(
            f'<button type="submit" name="persona" value="{key}">以“{html.escape(p.label)}”身份授权</button>'
            for key, p in PERSONAS.items()
        )
        wants = "你的昵称、头像和身份标识" if params["scope"] == "snsapi_userinfo" else "你的身份标识（openid）"
        target = urlsplit(params["redirect_uri"])
        body = (
            f'<div class="card"><p>公众号 <b>{html.escape(params["appid"])}</b> 申请获取{wants}。</p>'
            f'<p class="note">授权后将返回 {html.escape(target.netloc)}</p>'
            f'<form method="post" action="{action}">{hidden}{buttons}'
            f'<button type="submit" name="persona" value="{DENY}" class="deny">拒绝授权</button></form></div>'
            '<p class="note">这是本地模拟的微信授权页，仅用于开发和测试。</p>'
        )
        form_action = f"'self' {target.scheme}://{target.netloc}"
        return _page("微信授权（模拟）", body, form_action=form_action)

    def _choose(self, environ: dict) -> Response:
        params = _single(parse_qs(_read_body(environ).decode("utf-8", "replace"), keep_blank_values=True))
        problem = self._check_authorize(params)
        persona = params.get("persona", "")
        if problem or (persona != DENY and persona not in PERSONAS):
            return _error_page(problem or "未知的授权身份")
        answer = {"state": params.get("state", "")}
        if persona != DENY:
            code = self._store.issue_code(appid=params["appid"], persona=persona, scope=params["scope"], now=self._now())
            answer = {"code": code, **answer}
        parts = urlsplit(params["redirect_uri"])
        query = "&".join(q for q in (parts.query, urlencode(answer)) if q)
        location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        return "302 Found", [("Location", location), ("Cache-Control", "no-store")], b""

    # --- api.weixin.qq.com --------------------------------------------------------------

    def _fault(self) -> Response | None:
        """The answer the fault switch (``/_control``) imposes on every API call, if any."""
        mode = self._store.get_mode()
        if mode == "gateway_error":
            return "502 Bad Gateway", [("Content-Type", "text/html")], b"<html><body>502 Bad Gateway</body></html>"
        if mode == "system_error":
            return _api_error(-1)
        return None

    def _access_token(self, environ: dict) -> Response:
        """GET /sns/oauth2/access_token: checks in WeChat's order; errors are errcode JSON on HTTP 200."""
        if fault := self._fault():
            return fault
        params = _single(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        appid, secret = self._credentials()
        if params.get("appid") != appid:
            return _api_error(40013)
        if not secret or not hmac.compare_digest(params.get("secret", "").encode(), secret.encode()):
            return _api_error(40125)
        if params.get("grant_type") != "authorization_code":
            return _api_error(40002)
        if not params.get("code"):
            return _api_error(41008)
        now = self._now()
        errcode, persona, scope = self._store.consume_code(code=params["code"], appid=appid, now=now)
        if errcode:
            return _api_error(errcode)
        access, refresh = self._store.issue_tokens(appid=appid, persona=persona, scope=scope, now=now)
        token = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_TTL_SECONDS,
            "refresh_token": refresh,
            "openid": persona_openid(appid, persona),
            "scope": scope,
        }
        if PERSONAS[persona].bound_to_open_platform:
            token["unionid"] = _unionid(persona)
        if PERSONAS[persona].snapshot:
            token["is_snapshotuser"] = 1
        return _json(token)

    def _refresh_token(self, environ: dict) -> Response:
        """GET /sns/oauth2/refresh_token (no secret, like WeChat): a new access token, same openid,
        scope and refresh_token; 40030 for an unknown refresh token or one of another appid."""
        if fault := self._fault():
            return fault
        params = _single(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        appid = self._credentials()[0]
        if params.get("appid") != appid:
            return _api_error(40013)
        if params.get("grant_type") != "refresh_token":
            return _api_error(40002)
        if not params.get("refresh_token"):
            return _api_error(41003)
        errcode, access, persona, scope = self._store.refresh(refresh_token=params["refresh_token"], appid=appid,
                                                             now=self._now())
        if errcode:
            return _api_error(errcode)
        return _json({"access_token": access, "expires_in": ACCESS_TOKEN_TTL_SECONDS,
                      "refresh_token": params["refresh_token"], "openid": persona_openid(appid, persona), "scope": scope})

    def _check_access_token(self, params: dict[str, str]) -> tuple[int, str, str]:
        """(errcode, persona, scope) for the access_token and openid of an sns/auth or sns/userinfo call."""
        if not params.get("access_token"):
            return 41001, "", ""
        if not params.get("openid"):
            return 41009, "", ""
        row = self._store.access_token(params["access_token"])
        if row is None:
            return 40001, "", ""
        appid, persona, scope, issued_at = row
        if self._now() - issued_at > ACCESS_TOKEN_TTL_SECONDS:
            return 42001, "", ""
        if params["openid"] != persona_openid(appid, persona):
            return 40003, "", ""
        return 0, persona, scope

    def _auth(self, environ: dict) -> Response:
        """GET /sns/auth: {"errcode":0,"errmsg":"ok"} while the pair is valid."""
        if fault := self._fault():
            return fault
        errcode, _, _ = self._check_access_token(_single(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)))
        return _api_error(errcode) if errcode else _json({"errcode": 0, "errmsg": "ok"})

    def _userinfo(self, environ: dict) -> Response:
        """GET /sns/userinfo: the profile (§1.4), only for tokens of scope snsapi_userinfo (else 48001).
        Like today's WeChat: sex 0 and empty region fields; ``lang`` is accepted and ignored."""
        if fault := self._fault():
            return fault
        params = _single(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        errcode, persona, scope = self._check_access_token(params)
        if errcode:
            return _api_error(errcode)
        if scope != "snsapi_userinfo":
            return _api_error(48001)
        info = {
            "openid": params["openid"],
            "nickname": PERSONAS[persona].label,
            "sex": 0,
            "province": "",
            "city": "",
            "country": "",
            "headimgurl": f"https://thirdwx.qlogo.cn/mmopen/vi_32/{_derived_id(f'avatar:{persona}')[1:]}/132",
            "privilege": [],
        }
        if PERSONAS[persona].bound_to_open_platform:
            info["unionid"] = _unionid(persona)
        return _json(info)

    def _control(self, environ: dict) -> Response:
        try:
            mode = json.loads(_read_body(environ) or b"{}").get("mode")
        except (ValueError, AttributeError):
            mode = None
        if mode not in MODES:
            return _json({"error": f"mode must be one of {', '.join(MODES)}"}, status="400 Bad Request")
        self._store.set_mode(mode)
        return _json({"mode": mode})


def make_wechat_simulator(
    state_path: Path, *, appid: str | None = None, secret: str | None = None, now: Callable[[], float] = time.time
) -> WechatSimulator:
    """Build the simulator; ``now`` (epoch seconds) lets tests move the clock past a code's 5-minute life."""
    return WechatSimulator(Path(state_path), appid=appid, secret=secret, now=now)


def _unionid(persona: str) -> str:
    return _derived_id(f"unionid:{persona}")  # one per person across appids


def _single(query: dict[str, list[str]]) -> dict[str, str]:
    return {key: values[0] for key, values in query.items()}


def _read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(length, 64 * 1024)) if length > 0 else b""


def _json(payload: dict, *, status: str = "200 OK") -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return status, [("Content-Type", "application/json; charset=utf-8")], body


def _api_error(errcode: int) -> Response:
    rid = secrets.token_hex(4)  # WeChat appends a request id to every errmsg
    return _json({"errcode": errcode, "errmsg": f"{_ERRMSG[errcode]}, rid: {rid}"})


def _page(title: str, body: str, *, form_action: str = "'none'") -> Response:
    document = (
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><header>{html.escape(title)}</header><main>{body}</main></body></html>"
    )
    csp = (f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action {form_action}; "
           "base-uri 'none'; frame-ancestors 'none'")
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", csp),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return "200 OK", headers, document.encode("utf-8")


def _error_page(problem: str) -> Response:
    """WeChat shows "该链接无法访问" (on HTTP 200) when the authorize parameters are wrong (§1.2)."""
    body = f'<div class="card"><h2>该链接无法访问</h2><p class="note">{html.escape(problem)}</p></div>'
    return _page("该链接无法访问", body)
