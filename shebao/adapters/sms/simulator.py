"""Loopback stand-in for Aliyun Dysmsapi ``SendSms`` (plain WSGI, no Django request
handling; state in SQLite so several server processes share it).

Routes, relative to the mount point (``/sim/sms`` in development):
- ``POST /`` (or ``GET /?Action=...``): the Aliyun RPC protocol. Checks, in order: AccessKeyId,
  signature v1 or v3 (``sim_auth``), time within 15 minutes, nonce unused, then the SendSms rules
  (11-digit mainland number, template known, TemplateParam JSON with string values,
  per-number verification-code flow control 1/min, 5/hour, 10/day). Accepted messages are
  stored with their rendered text and answered ``{"Code":"OK",...,"BizId":...}``.
- ``POST /_control`` with JSON ``{"mode": "ok" | "system_error" | "unavailable" | "slow",
  "delay_seconds": 3}``: the fault switch. ``system_error`` answers ``isp.SYSTEM_ERROR``,
  ``unavailable`` answers HTTP 503, ``slow`` waits ``delay_seconds`` and then works.
- ``GET /outbox`` (and ``GET /``): the "模拟手机" page, newest first, ``?phone=`` filters;
  ``GET /outbox.json?phone=&limit=``: the same as JSON; ``GET /outbox.css``: its stylesheet.

Flow-control windows are the simulator's reading of Aliyun's rule: minute and hour are
sliding windows, the day is the calendar day in Asia/Shanghai; only accepted messages count.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from shebao.adapters.sms.sim_auth import MAX_SKEW, AuthRefused, authenticate

SHANGHAI = ZoneInfo("Asia/Shanghai")
CODE_TEMPLATE_TEXT = "您的验证码为${code}，5分钟内有效，请勿泄露给他人。"
MOBILE_CHANGED_TEMPLATE_TEXT = "您的社保费掌上办账号手机号码已于${time}更换为${mobile}。如非本人操作，请立即致电12366。"
BATCH_FAILED_TEMPLATE_TEXT = "您的${insurance}批量扣款${amount}元未成功：${reason}。请通过社保费掌上办“申报及缴纳”缴费。"
BATCH_REMINDER_TEMPLATE_TEXT = "您的${insurance}将于${date}从签约银行账户批量扣缴${amount}元，请确保账户余额充足；如已通过其他方式缴费或不需扣款，请在社保费掌上办“待批扣清册作废”中作废。"
FLOW_WINDOWS = ((dt.timedelta(minutes=1), 1, "分钟级"), (dt.timedelta(hours=1), 5, "小时级"))
DAY_PERMITS = 10
MODES = ("ok", "system_error", "unavailable", "slow")
_MOBILE = re.compile(r"^(?:\+86|0086|86)?(1[3-9]\d{9})$")
_TS = "%Y-%m-%dT%H:%M:%S.%fZ"
_CSP = "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, biz_id TEXT NOT NULL, phone TEXT NOT NULL,
  sign_name TEXT NOT NULL, template_code TEXT NOT NULL, params TEXT NOT NULL, text TEXT NOT NULL, out_id TEXT NOT NULL,
  sent_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_phone_sent ON messages (phone, sent_at);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS control (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_CSS = b"""body{font:16px/1.5 -apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#ededed;color:#111}
header{background:#07c160;color:#fff;padding:12px 16px}h1{font-size:18px;margin:0}.note{font-size:12px;opacity:.85}
form{display:flex;gap:8px;padding:12px 16px}input{flex:1;font-size:16px;padding:6px}ul{list-style:none;margin:0;padding:0 12px}
li{background:#fff;border-radius:8px;margin:10px 0;padding:10px 12px}.meta{color:#888;font-size:13px}.empty{padding:24px;text-align:center;color:#888}
"""


class RpcError(Exception):
    """An Aliyun error answer: JSON ``{"Code", "Message", "RequestId"}`` with an HTTP status."""

    def __init__(self, code: str, message: str, status: int = 200):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _respond(
    start_response: Callable[..., Any], status: int, content_type: str, body: bytes, headers: Iterable = ()
) -> list[bytes]:
    start_response(
        f"{status} {HTTPStatus(status).phrase}", [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers]
    )
    return [body]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_TS)


@contextmanager
def connect_state(state_path: Path) -> Iterator[sqlite3.Connection]:
    """A short-lived autocommit connection (one per request: sqlite3 objects are not
    shared between threads); writers take ``BEGIN IMMEDIATE`` to serialise processes."""
    conn = sqlite3.connect(state_path, timeout=15, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def state_transaction(lock, state_path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction on a simulator's state file, serialised across threads (``lock``)
    and processes (BEGIN IMMEDIATE). An ``RpcError`` still commits: a refused request has
    spent its nonce. (Shared by the SMS and identity-check simulators.)"""
    with lock, connect_state(state_path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except RpcError:
            conn.execute("COMMIT")
            raise
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def read_outbox(state_path: Path, phone: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The simulator's accepted messages, newest first (optionally one phone's),
    each ``{biz_id, phone, sign_name, template_code, params, text, out_id, sent_at}``
    with ``params`` a dict and ``sent_at`` an aware UTC datetime."""
    if not Path(state_path).exists():
        return []
    sql = "SELECT * FROM messages" + (" WHERE phone = ?" if phone else "") + " ORDER BY sent_at DESC, id DESC LIMIT ?"
    with connect_state(state_path) as conn:
        rows = conn.execute(sql, ((phone,) if phone else ()) + (int(limit),)).fetchall()
    return [
        {
            **{k: row[k] for k in ("biz_id", "phone", "sign_name", "template_code", "text", "out_id")},
            "params": json.loads(row["params"]),
            "sent_at": dt.datetime.strptime(row["sent_at"], _TS).replace(tzinfo=dt.UTC),
        }
        for row in rows
    ]


def latest_code(state_path: Path, phone: str) -> str | None:
    """The ``code`` parameter of the newest message sent to ``phone`` (tests and dev tools)."""
    messages = read_outbox(state_path, phone=phone, limit=1)
    return messages[0]["params"].get("code") if messages else None


class SmsSimulator:
    """WSGI app speaking Aliyun Dysmsapi ``SendSms`` (see the module docstring)."""

    def __init__(
        self,
        state_path: Path,
        *,
        access_key_id: str | None = None,
        secret: str | None = None,
        templates: Mapping[str, str] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        flow_control: bool = True,
    ):
        self.state_path = Path(state_path)
        # Off only for manage.py bench_flow (many codes to one number within a minute); default on.
        self.flow_control = flow_control
        self._config = (access_key_id, secret, dict(templates) if templates is not None else None)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        with connect_state(self.state_path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    def _credentials(self) -> tuple[str, str, dict[str, str]]:
        """Constructor values, else (lazily, at the first request) ``settings.SMS``."""
        key_id, secret, templates = self._config
        if key_id is None or secret is None or templates is None:
            from django.conf import settings

            sms = settings.SMS
            key_id = sms["ACCESS_KEY_ID"] if key_id is None else key_id
            secret = sms["ACCESS_KEY_SECRET"] if secret is None else secret
            if templates is None:
                templates = {sms["TEMPLATE_CODE"]: CODE_TEMPLATE_TEXT}
                if sms.get("NOTICE_MOBILE_CHANGED_TEMPLATE_CODE"):
                    templates[sms["NOTICE_MOBILE_CHANGED_TEMPLATE_CODE"]] = MOBILE_CHANGED_TEMPLATE_TEXT
                if sms.get("NOTICE_BATCH_REMINDER_TEMPLATE_CODE"):
                    templates[sms["NOTICE_BATCH_REMINDER_TEMPLATE_CODE"]] = BATCH_REMINDER_TEMPLATE_TEXT
                if sms.get("NOTICE_BATCH_FAILED_TEMPLATE_CODE"):
                    templates[sms["NOTICE_BATCH_FAILED_TEMPLATE_CODE"]] = BATCH_FAILED_TEMPLATE_TEXT
            self._config = (key_id, secret, templates)
        return key_id, secret, templates

    # --- WSGI plumbing ---
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if path == "/" and (method == "POST" or "Action" in query or "HTTP_AUTHORIZATION" in environ):
            content = self._body(environ)
            status, body = self._rpc(environ, {**query, **self._form(environ, content)}, content)
            return self._json(start_response, status, body)
        if path == "/_control" and method == "POST":
            return self._control(environ, start_response)
        if method == "GET" and path in ("/", "/outbox"):
            return self._page(environ, start_response, query.get("phone", "").strip())
        if method == "GET" and path == "/outbox.json":
            limit = int(query["limit"]) if query.get("limit", "").isdigit() else 50
            rows = read_outbox(self.state_path, query.get("phone") or None, min(limit, 500))
            return self._json(start_response, 200, {"messages": [{**r, "sent_at": r["sent_at"].isoformat()} for r in rows]})
        if method == "GET" and path == "/outbox.css":
            return _respond(start_response, 200, "text/css; charset=utf-8", _CSS)
        return self._json(start_response, 404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found."})

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return environ["wsgi.input"].read(min(length, 65536)) if length > 0 else b""

    @staticmethod
    def _form(environ: dict[str, Any], content: bytes) -> dict[str, str]:
        if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
            return {}
        return dict(parse_qsl(content.decode("utf-8", "replace"), keep_blank_values=True))

    @staticmethod
    def _json(start_response: Callable[..., Any], status: int, body: Mapping[str, Any]) -> list[bytes]:
        return _respond(start_response, status, "application/json;charset=utf-8", json.dumps(body, ensure_ascii=False).encode())

    # --- fault switch ---
    def _mode(self) -> tuple[str, float]:
        with connect_state(self.state_path) as conn:
            row = conn.execute("SELECT value FROM control WHERE key = 'mode'").fetchone()
        value = json.loads(row["value"]) if row else {}
        return value.get("mode", "ok"), float(value.get("delay_seconds", 3.0))

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            wanted = json.loads(self._body(environ) or b"{}")
            mode, delay = wanted["mode"], float(wanted.get("delay_seconds", 3.0))
            if mode not in MODES or not 0 <= delay <= 60:
                raise ValueError(mode)
        except (ValueError, KeyError, TypeError):
            return self._json(start_response, 400, {"error": f"mode must be one of {', '.join(MODES)}; 0 <= delay_seconds <= 60"})
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO control VALUES ('mode', ?)", (json.dumps({"mode": mode, "delay_seconds": delay}),)
            )
        return self._json(start_response, 200, {"mode": mode, "delay_seconds": delay})

    # --- Aliyun RPC ---
    def _rpc(self, environ: dict[str, Any], params: dict[str, str], content: bytes) -> tuple[int, dict[str, Any]]:
        request_id = str(uuid.uuid4()).upper()
        mode, delay = self._mode()
        if mode == "unavailable":
            message = "The request has failed due to a temporary failure of the server."
            return 503, {"Code": "ServiceUnavailable", "Message": message, "RequestId": request_id}
        if mode == "slow":
            time.sleep(delay)
        try:
            biz_id = self._send_sms(environ, params, content, system_error=mode == "system_error")
        except (RpcError, AuthRefused) as exc:
            answer = {"RequestId": request_id, "Code": exc.code, "Message": exc.message}
            if exc.status >= 400:  # the gateway's own refusals also name the host and a troubleshooting link
                answer["HostId"] = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
                answer["Recommend"] = f"https://api.aliyun.com/troubleshoot?q={quote(exc.code)}&product=Dysmsapi&requestId={request_id}"
            return exc.status, answer
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}

    def _send_sms(self, environ: dict[str, Any], params: dict[str, str], content: bytes, *, system_error: bool) -> str:
        """Dysmsapi SendSms: authenticate (signature v1 or v3, ``sim_auth``), consume the nonce,
        check the message and the per-number flow control, store it — all in one write
        transaction across processes."""
        now = self._clock()
        key_id, secret, _ = self._credentials()
        caller = authenticate(environ, params, content, access_key_id=key_id, secret=secret, now=now)
        if caller.action != "SendSms" or caller.version != "2017-05-25":
            raise RpcError("InvalidAction.NotFound", "Specified api is not found, please check your url and method.", 404)
        with self._transaction() as conn:
            conn.execute("DELETE FROM nonces WHERE seen_at < ?", (_iso(now - 2 * MAX_SKEW),))
            if conn.execute("INSERT OR IGNORE INTO nonces VALUES (?, ?)", (caller.nonce, _iso(now))).rowcount == 0:
                raise RpcError("SignatureNonceUsed", "Specified signature nonce was used already.", 400)
            if system_error:
                raise RpcError("isp.SYSTEM_ERROR", "isp.SYSTEM_ERROR")
            phones, text, template_params = self._check_message(params)
            code_templates = self._code_templates()
            for phone in phones if self.flow_control and params["TemplateCode"] in code_templates else ():
                self._check_flow_control(conn, phone, now, code_templates)
            biz_id = f"{secrets.randbelow(10**18):018d}^0"
            stored = (params["SignName"], params["TemplateCode"], json.dumps(template_params, ensure_ascii=False), text)
            conn.executemany(
                "INSERT INTO messages (biz_id, phone, sign_name, template_code, params, text, out_id, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(biz_id, phone, *stored, params.get("OutId", ""), _iso(now)) for phone in phones],
            )
        return biz_id

    def _transaction(self):
        return state_transaction(self._lock, self.state_path)

    def _check_message(self, params: dict[str, str]) -> tuple[list[str], str, dict[str, str]]:
        """SendSms parameter rules: numbers (≤1000, 11-digit mainland, +86/0086/86 allowed),
        a known template, TemplateParam a JSON object of strings covering the template."""
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                raise RpcError(f"Missing{name}", f"{name} is mandatory for this action.", 400)
        raw_numbers = params["PhoneNumbers"].split(",")
        if len(raw_numbers) > 1000:
            raise RpcError("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        matches = [_MOBILE.match(number.strip()) for number in raw_numbers]
        if not all(matches):
            raise RpcError("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        template = self._credentials()[2].get(params["TemplateCode"])
        if template is None:
            raise RpcError("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            values = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            values = None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise RpcError("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        text = template
        for name in re.findall(r"\$\{(\w+)\}", template):
            if name not in values:
                raise RpcError("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
            text = text.replace("${" + name + "}", values[name])
        return [m.group(1) for m in matches if m], f"【{params['SignName']}】{text}", values

    def _code_templates(self) -> list[str]:
        """Verification-code templates (those with a ``${code}``): only they are flow-controlled."""
        return [code for code, text in self._credentials()[2].items() if "${code}" in text]

    @staticmethod
    def _check_flow_control(conn: sqlite3.Connection, phone: str, now: dt.datetime, code_templates: list[str]) -> None:
        """Aliyun per-number verification-code flow control: 1/minute, 5/hour, 10/day
        (codes only; notice templates are not counted)."""
        marks = ",".join("?" * len(code_templates))

        def count_since(start: dt.datetime) -> int:
            sql = f"SELECT COUNT(*) FROM messages WHERE phone = ? AND sent_at > ? AND template_code IN ({marks})"  # noqa: S608 - placeholders only
            return conn.execute(sql, (phone, _iso(start), *code_templates)).fetchone()[0]

        for window, permits, label in FLOW_WINDOWS:
            if count_since(now - window) >= permits:
                raise RpcError("isv.BUSINESS_LIMIT_CONTROL", f"触发{label}流控Permits:{permits}")
        local_midnight = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        if count_since(local_midnight - dt.timedelta(microseconds=1)) >= DAY_PERMITS:
            raise RpcError("isv.BUSINESS_LIMIT_CONTROL", f"触发天级流控Permits:{DAY_PERMITS}")

    # --- the development "phone" ---
    def _page(self, environ: dict[str, Any], start_response: Callable[..., Any], phone: str) -> list[bytes]:
        base = html.escape(environ.get("SCRIPT_NAME", ""))
        items = (
            "".join(
                f'<li><div class="meta">{m["sent_at"].astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S} · {html.escape(m["phone"])}</div>'
                f"<div>{html.escape(m['text'])}</div></li>"
                for m in read_outbox(self.state_path, phone or None, 50)
            )
            or '<li class="empty">暂无短信</li>'
        )
        page = (
            '<!DOCTYPE html><html lang="zh-Hans"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="10">'
            f'<title>模拟手机 · 短信收件箱</title><link rel="stylesheet" href="{base}/outbox.css"></head><body>'
            '<header><h1>模拟手机 · 短信收件箱</h1><div class="note">开发环境短信网关模拟器，短信不会真正发出</div></header>'
            f'<form method="get" action="{base}/outbox"><input name="phone" inputmode="numeric" placeholder="按手机号筛选"'
            f' value="{html.escape(phone)}"><button type="submit">筛选</button></form><ul>{items}</ul></body></html>'
        ).encode()
        return _respond(
            start_response,
            200,
            "text/html; charset=utf-8",
            page,
            [("Cache-Control", "no-store"), ("Content-Security-Policy", _CSP)],
        )


def make_sms_simulator(
    state_path: Path,
    *,
    access_key_id: str | None = None,
    secret: str | None = None,
    templates: Mapping[str, str] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    flow_control: bool = True,
) -> SmsSimulator:
    """The Aliyun SendSms simulator as a WSGI app. Credentials and the verification-code
    template default to ``settings.SMS`` (read at the first request); ``clock`` returns
    aware UTC datetimes (tests move it to exercise flow control). ``flow_control=False``
    switches the per-number 1/min, 5/h, 10/day limits off (the load benchmark only)."""
    return SmsSimulator(state_path, access_key_id=access_key_id, secret=secret, templates=templates, clock=clock,
                        flow_control=flow_control)
