"""Loopback stand-in for Aliyun Cloudauth ``Mobile3MetaDetailVerify`` (the carrier
three-element check). Plain WSGI, no Django request handling; state in SQLite so
several server processes share it.

Routes, relative to the mount point (``/sim/identity`` in development):
- ``POST /`` (or ``GET /?Action=...``): the Aliyun RPC protocol. Checks, in order: the fault
  switch, AccessKeyId, signature v1, Timestamp within 15 minutes, SignatureNonce unused,
  Action/Version, then the action's parameters (``ParamType`` ``normal`` or ``md5``; with
  ``md5`` every value must be 32 lower-case hex digits). Answers ``{"Code": "200", ...,
  "ResultObject": {"BizCode", "SubCode", "IspName"}}``.
- ``POST /_subscribers`` with JSON ``{"mobile", "name", "id_number"}`` (or ``{"mobile",
  "no_record": true}``): put a carrier record (the number's real-name owner, or the fact that
  there is none), replacing the number's earlier one.
- ``POST /_control`` with JSON ``{"mode": "ok" | "unavailable" | "throttled" | "not_activated"
  | "slow", "delay_seconds": 3, "unknown": "consistent" | "no_record"}``: the fault switch.
  ``unavailable`` answers HTTP 503 ``ServiceUnavailable``, ``throttled`` HTTP 400
  ``Forbidden.ExceptionRepeatedInvoke``, ``not_activated`` HTTP 403
  ``Forbidden.AccountAccessDenied``, ``slow`` waits ``delay_seconds`` and then works.

How the "carrier" decides, deterministically:
1. A number with a carrier record (the demo people's numbers are on file from the start;
   tests add more through ``/_subscribers``) → BizCode 1 when name and ID both match, else
   BizCode 2 with SubCode 203 (the ID matches, the name does not), 202 (the name matches,
   the ID does not) or 201 (neither). A record put with ``"no_record": true`` (and no name)
   is a number the carriers hold no real-name data for → BizCode 3, SubCode 301.
2. Any other number: as the ``unknown`` switch says — ``consistent`` (the default: a number
   nobody put on file is taken to be the caller's own, so development and the tests that
   register made-up people work) or ``no_record``.

Every RPC call that got a verdict is counted (``read_calls``): time, BizCode and SubCode
only, never the values sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from shebao.adapters.sms.sim_auth import v1_signature
from shebao.adapters.sms.simulator import RpcError, connect_state, state_transaction

MAX_SKEW = dt.timedelta(minutes=15)
MODES = ("ok", "unavailable", "throttled", "not_activated", "slow")
UNKNOWN_POLICIES = ("consistent", "no_record")
_ISP = {
    "CMCC": "134 135 136 137 138 139 147 150 151 152 157 158 159 172 178 182 183 184 187 188 195 197 198",
    "CUCC": "130 131 132 145 155 156 166 175 176 185 186 196",
    "CTCC": "133 149 153 173 174 177 180 181 189 190 191 193 199",
}
ISP_BY_PREFIX = {prefix: isp for isp, prefixes in _ISP.items() for prefix in prefixes.split()}
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_TS = "%Y-%m-%dT%H:%M:%S.%fZ"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (mobile TEXT PRIMARY KEY, mobile_md5 TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  name_md5 TEXT NOT NULL, id_number TEXT NOT NULL, id_md5 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS control (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, biz_code TEXT NOT NULL,
  sub_code TEXT NOT NULL, at TEXT NOT NULL);
"""


def _md5(value: str) -> str:
    return hashlib.md5(value.encode("utf-8"), usedforsecurity=False).hexdigest()


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_TS)


def read_calls(state_path: Path) -> list[dict[str, Any]]:
    """The verdicts the simulator gave, oldest first: ``{request_id, biz_code, sub_code, at}``."""
    if not Path(state_path).exists():
        return []
    with connect_state(state_path) as conn:
        rows = conn.execute("SELECT request_id, biz_code, sub_code, at FROM calls ORDER BY id").fetchall()
    return [{**dict(row), "at": dt.datetime.strptime(row["at"], _TS).replace(tzinfo=dt.UTC)} for row in rows]


def _demo_subscribers() -> list[tuple[str, str, str]]:
    """(mobile, name, ID number) of the demo people who have a mobile (shebao.core.demo_data)."""
    from shebao.core.demo_data import DEMO_PEOPLE, demo_id

    return [(p[4], p[0], demo_id(p)) for p in DEMO_PEOPLE if p[4]]


class IdentitySimulator:
    """WSGI app speaking Aliyun Cloudauth ``Mobile3MetaDetailVerify`` (see the module docstring)."""

    def __init__(
        self,
        state_path: Path,
        *,
        access_key_id: str | None = None,
        secret: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        subscribers: Iterable[tuple[str, str, str]] | None = None,
    ):
        self.state_path = Path(state_path)
        self._config = (access_key_id, secret)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.Lock()
        self._initial = list(subscribers) if subscribers is not None else None
        self._seeded = False
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        with connect_state(self.state_path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    def _credentials(self) -> tuple[str, str]:
        """Constructor values, else (lazily, at the first request) ``settings.IDENTITY_CHECK``."""
        key_id, secret = self._config
        if key_id is None or secret is None:
            from django.conf import settings

            conf = settings.IDENTITY_CHECK
            key_id = conf["ACCESS_KEY_ID"] if key_id is None else key_id
            secret = conf["ACCESS_KEY_SECRET"] if secret is None else secret
            self._config = (key_id, secret)
        return key_id, secret

    def _seed(self) -> None:
        """Put the initial carrier records on file once (at the first request: the demo
        data module needs Django's settings). Existing records are kept."""
        if self._seeded:
            return
        records = self._initial if self._initial is not None else _demo_subscribers()
        with self._transaction() as conn:
            for mobile, name, id_number in records:
                self._put(conn, mobile, name, id_number, replace=False)
        self._seeded = True

    @staticmethod
    def _put(conn: sqlite3.Connection, mobile: str, name: str, id_number: str, *, replace: bool) -> None:
        id_number = id_number.strip().upper()
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        conn.execute(
            f"{verb} INTO subscribers (mobile, mobile_md5, name, name_md5, id_number, id_md5) VALUES (?, ?, ?, ?, ?, ?)",
            (mobile, _md5(mobile), name, _md5(name), id_number, _md5(id_number)),
        )

    # --- WSGI plumbing ---
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        self._seed()
        if path == "/" and (method == "POST" or "Action" in query):
            status, body = self._rpc(method, {**query, **self._form(environ)})
            return self._json(start_response, status, body)
        if path == "/_control" and method == "POST":
            return self._control(environ, start_response)
        if path == "/_subscribers" and method == "POST":
            return self._subscriber(environ, start_response)
        return self._json(start_response, 404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found."})

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return environ["wsgi.input"].read(min(length, 65536)) if length > 0 else b""

    def _form(self, environ: dict[str, Any]) -> dict[str, str]:
        if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
            return {}
        return dict(parse_qsl(self._body(environ).decode("utf-8", "replace"), keep_blank_values=True))

    @staticmethod
    def _json(start_response: Callable[..., Any], status: int, body: Mapping[str, Any]) -> list[bytes]:
        data = json.dumps(body, ensure_ascii=False).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", "application/json;charset=utf-8"), ("Content-Length", str(len(data)))],
        )
        return [data]

    # --- test switches ---
    def _control_values(self) -> dict[str, Any]:
        with connect_state(self.state_path) as conn:
            row = conn.execute("SELECT value FROM control WHERE key = 'switches'").fetchone()
        values = json.loads(row["value"]) if row else {}
        return {"mode": "ok", "delay_seconds": 3.0, "unknown": "consistent", **values}

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        current = self._control_values()
        try:
            wanted = json.loads(self._body(environ) or b"{}")
            values = {
                "mode": wanted.get("mode", current["mode"]),
                "delay_seconds": float(wanted.get("delay_seconds", current["delay_seconds"])),
                "unknown": wanted.get("unknown", current["unknown"]),
            }
            if values["mode"] not in MODES or values["unknown"] not in UNKNOWN_POLICIES or not 0 <= values["delay_seconds"] <= 60:
                raise ValueError(values)
        except (ValueError, TypeError, AttributeError):
            error = f"mode must be one of {', '.join(MODES)}; unknown one of {', '.join(UNKNOWN_POLICIES)}; 0 <= delay_seconds <= 60"
            return self._json(start_response, 400, {"error": error})
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO control VALUES ('switches', ?)", (json.dumps(values),))
        return self._json(start_response, 200, values)

    def _subscriber(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            record = json.loads(self._body(environ) or b"{}")
            mobile = str(record["mobile"]).strip()
            if record.get("no_record") is True:
                name = id_number = ""
            else:
                name, id_number = str(record["name"]).strip(), str(record["id_number"]).strip()
                if not name or not id_number:
                    raise ValueError(mobile)
            if not _MOBILE.match(mobile):
                raise ValueError(mobile)
        except (ValueError, KeyError, TypeError, AttributeError):
            return self._json(start_response, 400, {"error": "need mobile (11 digits) and name and id_number, or no_record: true"})
        with self._transaction() as conn:
            self._put(conn, mobile, name, id_number, replace=True)
        return self._json(start_response, 200, {"mobile": f"{mobile[:3]}****{mobile[-4:]}", "no_record": not name})

    # --- Aliyun RPC ---
    def _rpc(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        request_id = str(uuid.uuid4()).upper()
        switches = self._control_values()
        mode = switches["mode"]
        if mode == "unavailable":
            message = "The request has failed due to a temporary failure of the server."
            return 503, {"Code": "ServiceUnavailable", "Message": message, "RequestId": request_id}
        if mode == "slow":
            time.sleep(switches["delay_seconds"])
        try:
            now = self._clock()
            self._authenticate(method, params, now)
            with self._transaction() as conn:
                conn.execute("DELETE FROM nonces WHERE seen_at < ?", (_iso(now - 2 * MAX_SKEW),))
                if conn.execute("INSERT OR IGNORE INTO nonces VALUES (?, ?)", (params["SignatureNonce"], _iso(now))).rowcount == 0:
                    raise RpcError("SignatureNonceUsed", "Specified signature nonce was used already.", 400)
                if mode == "not_activated":
                    raise RpcError("Forbidden.AccountAccessDenied", "请确保已开通实人认证服务并且账户余额充足。", 403)
                if mode == "throttled":
                    raise RpcError("Forbidden.ExceptionRepeatedInvoke", "异常重复调用次数超限。", 400)
                biz_code, sub_code, isp = self._verify(conn, params, unknown=switches["unknown"])
                conn.execute(
                    "INSERT INTO calls (request_id, biz_code, sub_code, at) VALUES (?, ?, ?, ?)", (request_id, biz_code, sub_code, _iso(now))
                )
        except RpcError as exc:
            return exc.status, {"Code": exc.code, "Message": exc.message, "RequestId": request_id}
        result = {"BizCode": biz_code, "SubCode": sub_code, "IspName": isp}
        return 200, {"Code": "200", "Message": "success", "RequestId": request_id, "ResultObject": result}

    def _authenticate(self, method: str, params: dict[str, str], now: dt.datetime) -> None:
        """Aliyun RPC authentication: known AccessKeyId, signature v1, Timestamp within 15 minutes."""
        key_id, secret = self._credentials()
        for name in ("AccessKeyId", "Signature", "SignatureNonce", "Timestamp"):
            if not params.get(name):
                raise RpcError("MissingParameter", f"{name} is mandatory for this action.", 400)
        if not hmac.compare_digest(params["AccessKeyId"], key_id):
            raise RpcError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        if params.get("SignatureMethod") != "HMAC-SHA1" or not hmac.compare_digest(v1_signature(method, params, secret), params.get("Signature", "")):
            raise RpcError("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", 400)
        try:
            sent = dt.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            raise RpcError("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.", 400) from None
        if abs(now - sent) > MAX_SKEW:
            raise RpcError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400)
        if params.get("Action") != "Mobile3MetaDetailVerify" or params.get("Version") != "2019-03-07":
            raise RpcError("InvalidAction.NotFound", "Specified api is not found, please check your url and method.", 404)

    @staticmethod
    def _verify(conn: sqlite3.Connection, params: dict[str, str], *, unknown: str) -> tuple[str, str, str]:
        """(BizCode, SubCode, IspName) for the three elements, by the rules in the module docstring."""
        for name in ("ParamType", "UserName", "IdentifyNum", "Mobile"):
            if not params.get(name):
                raise RpcError("MissingParameter", f"{name} is mandatory for this action.", 400)
        param_type = params["ParamType"]
        name, id_number, mobile = params["UserName"], params["IdentifyNum"], params["Mobile"]
        if param_type == "md5":
            if not all(_MD5.match(value) for value in (name, id_number, mobile)):
                raise RpcError("InvalidParameter", "参数非法：md5 需为32位小写字符串", 401)
            row = conn.execute("SELECT * FROM subscribers WHERE mobile_md5 = ?", (mobile,)).fetchone()
            name_ok = row is not None and hmac.compare_digest(row["name_md5"], name)
            id_ok = row is not None and hmac.compare_digest(row["id_md5"], id_number)
        elif param_type == "normal":
            if not _MOBILE.match(mobile):
                raise RpcError("InvalidParameter", "参数非法：手机号格式不正确", 401)
            row = conn.execute("SELECT * FROM subscribers WHERE mobile = ?", (mobile,)).fetchone()
            name_ok = row is not None and row["name"] == name
            id_ok = row is not None and row["id_number"] == id_number.upper()
        else:
            raise RpcError("InvalidParameter", "参数非法：ParamType", 401)
        if row is None:
            isp = ISP_BY_PREFIX.get(mobile[:3], "") if param_type == "normal" else ""
            return ("3", "301", "") if unknown == "no_record" else ("1", "101", isp)
        if not row["name"]:
            return "3", "301", ""
        isp = ISP_BY_PREFIX.get(row["mobile"][:3], "")
        if name_ok and id_ok:
            return "1", "101", isp
        if id_ok:
            return "2", "203", isp
        if name_ok:
            return "2", "202", isp
        return "2", "201", isp

    def _transaction(self):
        return state_transaction(self._lock, self.state_path)


def make_identity_simulator(
    state_path: Path,
    *,
    access_key_id: str | None = None,
    secret: str | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    subscribers: Iterable[tuple[str, str, str]] | None = None,
) -> IdentitySimulator:
    """The Aliyun ``Mobile3MetaDetailVerify`` simulator as a WSGI app. Credentials default to
    ``settings.IDENTITY_CHECK`` (read at the first request); ``clock`` returns aware UTC
    datetimes; ``subscribers`` (mobile, name, ID number) replace the demo people as the
    carrier records on file at the start."""
    return IdentitySimulator(state_path, access_key_id=access_key_id, secret=secret, clock=clock, subscribers=subscribers)
