"""Loopback simulator of the banks behind TIPS (interfaces.md §5.4): a plain WSGI app (no
Django at request time), state in SQLite (``sim_store``).

Routes, relative to the mount point (``/sim/bank`` in development):

* ``POST /cfx`` — one CFX message (``cfx``), read through defusedxml (a DTD, an entity or an
  external reference is refused with a 9120 format error, nothing done):
  - ``9114`` agreement check → ``9115``. Fails (``VCResult`` 1, the reason in ``AddWord``)
    when the account is unknown at that bank (``PayBkCode``'s first 3 digits are the bank
    class), closed, or held under another name than ``HandOrgName``; with ``VCSign`` 1 (a paper
    agreement) also when the counter has no matching record of the agreement. A passed
    electronic check makes the agreement usable at the bank.
  - ``1001`` deduction → ``2001``, idempotent by ``TraNo``: the first answer is kept and
    every repeat gets it again (money moves once); the same ``TraNo`` with other content →
    ``94010``. Refused with a reason: unknown or closed account, name mismatch, no usable
    agreement for that account, balance below the amount.
  - ``9130`` status query of a 1001 by ``OriTraNo`` → its ``2001``, or 9120 ``94040``.
* ``GET|POST /counter`` — 柜面录入: the page where a bank clerk enters a paper agreement
  (the account is checked as for 9114); a payer can then complete the verification online.
* ``GET|POST /_accounts`` — JSON: put an account ``{account_no, bank_class, name,
  balance_fen, status}``; ``GET ?account_no=`` reads one back.
* ``GET|POST /_control`` — JSON fault switch ``{"mode": …, "delay_seconds": …}``: ``ok``;
  ``timeout`` (the message is processed, then the answer held back ``delay_seconds``: the
  client times out not knowing the outcome); ``slow`` (wait, then process and answer);
  ``unavailable`` (HTTP 503, nothing done); ``busy`` (9120 ``94999``, nothing done).

The demo people (shebao.core.demo_data) each have an account at ICBC (class 102) from the
start, numbers from ``demo_account_no``, with 20,000.00 yuan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from shebao.adapters.bank import cfx
from shebao.adapters.bank.sim_counter import counter_page
from shebao.adapters.bank.sim_store import ACCOUNT_STATES, MODES, BankSimStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
NODE = "BANKSIM00001"
DEMO_BALANCE_FEN = 2_000_000
_CNAPS = re.compile(r"^\d{12}$")
_ACCOUNT = re.compile(r"^\d{1,32}$")
_TRA_NO = re.compile(r"^[A-Za-z0-9]{1,32}$")
Response = tuple[str, list[tuple[str, str]], bytes]

WORDS = {
    "passed": "协议已可以使用",
    "not_found": "账号不存在",
    "closed": "账户已销户",
    "name": "账户名称不符",
    "no_counter_record": "协议不存在或未在柜面录入",
    "protocol_other_account": "协议书号已用于其他账户",
}
_DEDUCTION_WORDS = {
    cfx.SUCCESS: "扣款成功", cfx.ACCOUNT_NOT_FOUND: "账号不存在", cfx.ACCOUNT_CLOSED: "账户已销户",
    cfx.NAME_MISMATCH: "账户名称不符", cfx.AGREEMENT_NOT_FOUND: "协议不存在或未生效", cfx.INSUFFICIENT_BALANCE: "余额不足",
}


def luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def demo_account_no(index: int) -> str:
    """The demo person ``index``'s ICBC debit card: 19 digits starting 62, Luhn-valid."""
    body = f"622202450{index:09d}"
    return body + luhn_digit(body)


def _demo_accounts() -> list[tuple[str, str, str, int]]:
    from shebao.core.demo_data import DEMO_PEOPLE

    return [(demo_account_no(i), "102", person[0], DEMO_BALANCE_FEN) for i, person in enumerate(DEMO_PEOPLE, start=1)]


def check_account(db: sqlite3.Connection, *, bank_code: str, account_no: str, name: str) -> str | None:
    """What the bank says about (bank, number, name): None when it is a normal account of
    that holder, else the key of ``WORDS`` (and of the failure result) why not."""
    row = db.execute("SELECT * FROM accounts WHERE account_no = ?", (account_no,)).fetchone()
    if row is None or row["bank_class"] != bank_code[:3]:
        return "not_found"
    if row["status"] != "normal":
        return "closed"
    if row["name"] != name:
        return "name"
    return None


class BankSimulator:
    """The WSGI app; see the module docstring."""

    def __init__(self, state_path: Path, *, clock: Callable[[], dt.datetime] | None = None,
                 accounts: Iterable[tuple] | None = None):
        self.store = BankSimStore(state_path)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._initial = list(accounts) if accounts is not None else None
        self._seeded = False

    def _seed(self) -> None:
        """Put the initial accounts in once (at the first request: the demo people need Django's settings)."""
        if self._seeded:
            return
        for account_no, bank_class, name, balance_fen, *status in self._initial if self._initial is not None else _demo_accounts():
            self.store.put_account(account_no=account_no, bank_class=bank_class, name=name, balance_fen=balance_fen,
                                   status=status[0] if status else "normal", replace=False)
        self._seeded = True

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO") or "/"
        self._seed()
        if (method, path) == ("POST", "/cfx"):
            status, headers, body = self._cfx(_read_body(environ))
        elif path == "/counter" and method in ("GET", "POST"):
            form = dict(parse_qsl(_read_body(environ).decode("utf-8", "replace"), keep_blank_values=True)) if method == "POST" else None
            status, headers, body = counter_page(self, form, action=environ.get("SCRIPT_NAME", "") + "/counter")
        elif path == "/_accounts" and method in ("GET", "POST"):
            status, headers, body = self._accounts(environ, method)
        elif path == "/_control" and method in ("GET", "POST"):
            status, headers, body = self._control(environ, method)
        else:
            status, headers, body = "404 Not Found", [("Content-Type", "text/plain; charset=utf-8")], b"not found"
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def now(self) -> dt.datetime:
        return self._clock()

    # --- CFX ---

    def _cfx(self, data: bytes) -> Response:
        control = self.store.control()
        if control["mode"] == "unavailable":
            return "503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")], b"bank front unavailable"
        if control["mode"] == "slow":
            time.sleep(float(control["delay_seconds"]))
        try:
            message = cfx.parse(data)
        except cfx.CfxMalformed as exc:
            return self._answer(None, "9120", {"ErrInfo9120": {"Result": cfx.FORMAT_ERROR, "AddWord": f"报文格式错误：{exc}"}})
        if control["mode"] == "busy":
            return self._error(message, cfx.SYSTEM_BUSY, "系统忙，请稍后重试")
        handler = {"9114": self._verify, "1001": self._deduct, "9130": self._query}.get(message.msg_no)
        try:
            if handler is None:
                return self._error(message, cfx.FORMAT_ERROR, f"不支持的报文 {message.msg_no}")
            answer = handler(message)
        except cfx.CfxMalformed as exc:
            return self._error(message, cfx.FORMAT_ERROR, f"报文格式错误：{exc}")
        if control["mode"] == "timeout":  # done and committed; the answer comes too late
            time.sleep(float(control["delay_seconds"]))
        return answer

    def _verify(self, message: cfx.CfxMessage) -> Response:
        """9114 → 9115 (module docstring)."""
        f = message.part("ProveInfo9114")
        _require(f, "VCNo", "TaxOrgCode", "ProtocolNo", "PayBkCode", "PayAcct", "HandOrgName", "VCSign")
        if not _CNAPS.match(f["PayBkCode"]) or not _ACCOUNT.match(f["PayAcct"]) or len(f["ProtocolNo"]) > 60 \
                or len(f["TaxOrgCode"]) > 12 or f["VCSign"] not in (cfx.VC_SIGN_ELECTRONIC, cfx.VC_SIGN_PAPER):
            raise cfx.CfxMalformed("PayBkCode 12 digits, PayAcct ≤ 32 digits, ProtocolNo ≤ 60, TaxOrgCode ≤ 12, VCSign 0/1")
        now = self.now()
        with self.store.tx() as db:
            problem = check_account(db, bank_code=f["PayBkCode"], account_no=f["PayAcct"], name=f["HandOrgName"])
            key = (f["TaxOrgCode"], f["ProtocolNo"])
            record = db.execute("SELECT * FROM agreements WHERE tax_org_code = ? AND protocol_no = ?", key).fetchone()
            if problem is None and f["VCSign"] == cfx.VC_SIGN_PAPER:
                if record is None or record["source"] != "counter" or record["account_no"] != f["PayAcct"]:
                    problem = "no_counter_record"
            elif problem is None and record is not None and record["account_no"] != f["PayAcct"]:
                problem = "protocol_other_account"
            elif problem is None:
                db.execute("INSERT OR REPLACE INTO agreements VALUES (?, ?, ?, ?, ?, ?, 'electronic', 'active', ?)",
                           (*key, f["PayAcct"], f["HandOrgName"], f.get("TaxPayCode", ""), f.get("TaxPayName", ""), now.timestamp()))
            words = WORDS[problem or "passed"]
            result = cfx.VC_FAILED if problem else cfx.VC_PASSED
            db.execute("INSERT INTO checks (vc_no, protocol_no, vc_sign, vc_result, add_word, at) VALUES (?, ?, ?, ?, ?, ?)",
                       (f["VCNo"], f["ProtocolNo"], f["VCSign"], result, words, now.timestamp()))
        echoed = {k: f.get(k, "") for k in ("TaxOrgCode", "TaxPayCode", "TaxPayName", "PayBkCode", "PayOpBkCode", "PayAcct",
                                            "HandOrgName", "ProtocolNo")}
        body = {"OriSendOrgCode": f.get("SendOrgCode", ""), "OriEntrustDate": f.get("EntrustDate", ""), "OriVCNo": f["VCNo"],
                "VCSign": f["VCSign"], **echoed, "VCResult": result, "AddWord": words}
        return self._answer(message, "9115", {"ProveReturn9115": body})

    def _deduct(self, message: cfx.CfxMessage) -> Response:
        """1001 → 2001, once per TraNo (module docstring)."""
        head, turn, pay = message.part("RealHead1001"), message.part("TurnAccount1001"), message.part("Payment1001")
        _require(head, "TaxOrgCode", "EntrustDate", "TraNo")
        _require(pay, "PayAcct", "HandOrgName", "TraAmt", "ProtocolNo")
        _require(turn, "PayBkCode")
        amount_fen = cfx.fen_of(pay["TraAmt"])
        if not _TRA_NO.match(head["TraNo"]) or not _CNAPS.match(turn["PayBkCode"]) or not _ACCOUNT.match(pay["PayAcct"]) \
                or amount_fen <= 0:
            raise cfx.CfxMalformed("TraNo ≤ 32 letters and digits, PayBkCode 12 digits, PayAcct ≤ 32 digits, TraAmt > 0")
        fingerprint = hashlib.sha256(json.dumps([head["TaxOrgCode"], turn["PayBkCode"], pay["PayAcct"], pay["HandOrgName"],
                                                 amount_fen, pay["ProtocolNo"]]).encode()).hexdigest()
        now = self.now()
        with self.store.tx() as db:
            row = db.execute("SELECT * FROM deductions WHERE tra_no = ?", (head["TraNo"],)).fetchone()
            if row is not None and row["fingerprint"] != fingerprint:
                return self._error(message, cfx.DUPLICATE_TRA_NO, "交易流水号重复且报文内容不同")
            if row is None:
                row = self._settle(db, head, turn, pay, amount_fen, fingerprint, now)
        return self._result(message, row)

    def _settle(self, db: sqlite3.Connection, head: dict[str, str], turn: dict[str, str], pay: dict[str, str], amount_fen: int,
                fingerprint: str, now: dt.datetime) -> sqlite3.Row:
        """Decide a new deduction, move the money if it succeeds, and keep the answer."""
        problem = check_account(db, bank_code=turn["PayBkCode"], account_no=pay["PayAcct"], name=pay["HandOrgName"])
        result = {None: cfx.SUCCESS, "not_found": cfx.ACCOUNT_NOT_FOUND, "closed": cfx.ACCOUNT_CLOSED,
                  "name": cfx.NAME_MISMATCH}[problem]
        agreement = db.execute("SELECT * FROM agreements WHERE tax_org_code = ? AND protocol_no = ? AND status = 'active'",
                               (head["TaxOrgCode"], pay["ProtocolNo"])).fetchone()
        if result == cfx.SUCCESS and (agreement is None or agreement["account_no"] != pay["PayAcct"]):
            result = cfx.AGREEMENT_NOT_FOUND
        if result == cfx.SUCCESS:
            moved = db.execute("UPDATE accounts SET balance_fen = balance_fen - ? WHERE account_no = ? AND balance_fen >= ?",
                               (amount_fen, pay["PayAcct"], amount_fen)).rowcount
            result = cfx.SUCCESS if moved == 1 else cfx.INSUFFICIENT_BALANCE
        local = now.astimezone(SHANGHAI)
        bank_tra_no = local.strftime("%Y%m%d") + f"{secrets.randbelow(10**12):012d}" if result == cfx.SUCCESS else ""
        db.execute("INSERT INTO deductions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (head["TraNo"], fingerprint, head["TaxOrgCode"], pay["PayAcct"], amount_fen, result, _DEDUCTION_WORDS[result],
                    bank_tra_no, local.strftime("%Y%m%d"), now.timestamp()))
        return db.execute("SELECT * FROM deductions WHERE tra_no = ?", (head["TraNo"],)).fetchone()

    def _query(self, message: cfx.CfxMessage) -> Response:
        f = message.part("TraQuery9130")
        _require(f, "OriTraNo")
        with self.store.tx() as db:
            row = db.execute("SELECT * FROM deductions WHERE tra_no = ?", (f["OriTraNo"],)).fetchone()
        if row is None:
            return self._error(message, cfx.NOT_FOUND, "无此交易")
        return self._result(message, row)

    def _result(self, message: cfx.CfxMessage, row: Any) -> Response:
        head = {"OriTaxOrgCode": row["tax_org_code"], "OriTraNo": row["tra_no"]}
        result = {"Result": row["result"], "AddWord": row["add_word"], "TraAmt": cfx.yuan_text(row["amount_fen"]),
                  "BankTraNo": row["bank_tra_no"], "AcctDate": row["acct_date"]}
        return self._answer(message, "2001", {"RealHead2001": head, "TraRes2001": result})

    def _error(self, message: cfx.CfxMessage, result: str, words: str) -> Response:
        return self._answer(message, "9120", {"ErrInfo9120": {"OriMsgNo": message.msg_no, "Result": result, "AddWord": words}})

    def _answer(self, request: cfx.CfxMessage | None, msg_no: str, parts: dict[str, dict[str, str]]) -> Response:
        local = self.now().astimezone(SHANGHAI)
        msg_id = local.strftime("%Y%m%d") + secrets.token_hex(6)
        head = {"SRC": NODE, "DES": request.head.get("SRC", "") if request else "", "MsgNo": msg_no, "MsgID": msg_id,
                "MsgRef": request.head.get("MsgID", "") if request else "", "WorkDate": local.strftime("%Y%m%d")}
        return "200 OK", [("Content-Type", "application/xml; charset=utf-8")], cfx.build(head=head, parts=parts)

    # --- the counter (柜面录入) ---

    def enter_agreement(self, *, tax_org_code: str, protocol_no: str, payer_code: str, payer_name: str, bank_code: str,
                        account_no: str, account_name: str) -> str | None:
        """A clerk records a paper agreement the payer brought in: None when recorded, else
        why not, in the clerk's words (nothing recorded)."""
        if not tax_org_code or len(tax_org_code) > 12 or not protocol_no or len(protocol_no) > 60:
            return "请填写征收机关代码（不超过12位）和协议书号（不超过60位）"
        if not payer_code or not payer_name:
            return "请填写缴费人编码和缴费人名称"
        if not _CNAPS.match(bank_code) or not _ACCOUNT.match(account_no):
            return "付款行行号应为12位数字，账号应为不超过32位数字"
        with self.store.tx() as db:
            problem = check_account(db, bank_code=bank_code, account_no=account_no, name=account_name)
            if problem is not None:
                return {"not_found": "本行无此账号", "closed": "该账户已销户，不能签约", "name": "账户名称与本行记录不符"}[problem]
            db.execute("INSERT OR REPLACE INTO agreements VALUES (?, ?, ?, ?, ?, ?, 'counter', 'active', ?)",
                       (tax_org_code, protocol_no, account_no, account_name, payer_code, payer_name, self.now().timestamp()))
        return None

    # --- test and development switches ---

    def _accounts(self, environ: dict[str, Any], method: str) -> Response:
        if method == "GET":
            account = self.store.account(dict(parse_qsl(environ.get("QUERY_STRING", ""))).get("account_no", ""))
            return _json(200 if account else 404, account or {"error": "no such account"})
        try:
            wanted = json.loads(_read_body(environ) or b"{}")
            account = {"account_no": str(wanted["account_no"]), "bank_class": str(wanted["bank_class"]), "name": str(wanted["name"]),
                       "balance_fen": int(wanted.get("balance_fen", 0)), "status": str(wanted.get("status", "normal"))}
            if not _ACCOUNT.match(account["account_no"]) or not re.fullmatch(r"\d{3}", account["bank_class"]) \
                    or not account["name"] or account["balance_fen"] < 0 or account["status"] not in ACCOUNT_STATES:
                raise ValueError
        except (ValueError, TypeError, KeyError, AttributeError):
            return _json(400, {"error": "account_no ≤ 32 digits, bank_class 3 digits, name, balance_fen ≥ 0, status normal|closed"})
        self.store.put_account(**account)
        return _json(200, account)

    def _control(self, environ: dict[str, Any], method: str) -> Response:
        if method == "GET":
            return _json(200, self.store.control())
        try:
            wanted = json.loads(_read_body(environ) or b"{}")
            changes = {k: wanted[k] for k in ("mode", "delay_seconds") if k in wanted}
            if set(wanted) - set(changes) or changes.get("mode", "ok") not in MODES \
                    or not 0 <= float(changes.get("delay_seconds", 0)) <= 60:
                raise ValueError
        except (ValueError, TypeError, AttributeError):
            return _json(400, {"error": f"mode in {MODES}, 0 <= delay_seconds <= 60"})
        return _json(200, self.store.set_control(changes))


def make_bank_simulator(state_path: Path, *, clock: Callable[[], dt.datetime] | None = None,
                        accounts: Iterable[tuple] | None = None) -> BankSimulator:
    """The bank simulator as a WSGI app. ``clock`` returns aware UTC datetimes; ``accounts``
    (number, bank class, holder's name, balance in fen[, ``"closed"``]) replace the demo
    people's accounts."""
    return BankSimulator(Path(state_path), clock=clock, accounts=accounts)


def _require(fields: dict[str, str], *names: str) -> None:
    missing = [name for name in names if not fields.get(name)]
    if missing:
        raise cfx.CfxMalformed(f"{', '.join(missing)} missing")


def _json(code: int, payload: Any) -> Response:
    return f"{code} {HTTPStatus(code).phrase}", [("Content-Type", "application/json")], json.dumps(payload, ensure_ascii=False).encode()


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(length, cfx.MAX_BYTES + 1)) if length > 0 else b""
