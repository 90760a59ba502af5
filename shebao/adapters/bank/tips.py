"""Production client of the BankGateway port: TIPS-style CFX messages (interfaces.md §5,
``cfx``) posted over HTTP to the tax core's bank front (the loopback simulator in
development), through the one outgoing session (``shebao.adapters.http``).

Each call is one ``POST {base_url}/cfx`` with ``Content-Type: application/xml``, answered
by one CFX message: 9114 → 9115, 1001 → 2001, 9130 → 2001, or 9120 when the other side
could not process it. This client never retries: a deduction whose answer did not come
(timeout, HTTP 5xx, an unreadable answer) has an unknown outcome and raises
``BankUnavailable``; the caller resolves it by ``deduct_query`` or by sending the
identical request again with the same key.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from shebao.adapters.bank import cfx
from shebao.adapters.bank.port import (
    AgreementCheck,
    AgreementVerdict,
    BankAccount,
    BankError,
    BankRequestRefused,
    BankUnavailable,
    Deduction,
    DeductionNotFound,
    DeductionState,
    FailReason,
    VerifyMethod,
)
from shebao.adapters.http import OutgoingHttp, ProviderUnavailable
from shebao.common import clock as clock_module

logger = logging.getLogger("shebao.adapters")

PROVIDER = "tips"
SHANGHAI = ZoneInfo("Asia/Shanghai")
_KEY = re.compile(r"^[A-Za-z0-9]{1,32}$")
_CNAPS = re.compile(r"^\d{12}$")
_RESULT_REASON = {
    cfx.NAME_MISMATCH: FailReason.NAME_MISMATCH,
    cfx.ACCOUNT_NOT_FOUND: FailReason.ACCOUNT_NOT_FOUND,
    cfx.ACCOUNT_CLOSED: FailReason.ACCOUNT_CLOSED,
    cfx.AGREEMENT_NOT_FOUND: FailReason.AGREEMENT_NOT_FOUND,
    cfx.INSUFFICIENT_BALANCE: FailReason.INSUFFICIENT_BALANCE,
}
# 9115 carries the bank's words only (AddWord): read them by these keywords, in this order
_WORD_REASON = (
    ("销户", FailReason.ACCOUNT_CLOSED),
    ("冻结", FailReason.ACCOUNT_CLOSED),
    ("户名", FailReason.NAME_MISMATCH),
    ("名称不符", FailReason.NAME_MISMATCH),
    ("协议", FailReason.AGREEMENT_NOT_FOUND),
    ("不存在", FailReason.ACCOUNT_NOT_FOUND),
    ("无此账", FailReason.ACCOUNT_NOT_FOUND),
)


def reason_of_words(words: str) -> FailReason:
    """A 9115 failure's reason from the bank's free-text ``AddWord``."""
    return next((reason for keyword, reason in _WORD_REASON if keyword in words), FailReason.OTHER)


def _service_now() -> dt.datetime:
    return clock_module.now()


def _transport_error(error: ProviderUnavailable) -> BankUnavailable:
    return BankUnavailable(str(error), code=error.kind)


class TipsBankGateway:
    """See the module docstring. ``src_node``/``des_node`` are the CFX node codes of the
    tax side and of the bank front; the payee fields (``payee_*``) name the treasury
    account the deductions go to (TurnAccount1001)."""

    name = PROVIDER

    def __init__(self, *, base_url: str, timeout: float, src_node: str, des_node: str, payee_bank_no: str, payee_org_code: str,
                 payee_account: str, payee_name: str, clock: Callable[[], dt.datetime] = _service_now,
                 http: OutgoingHttp | None = None):
        self.base_url = base_url.rstrip("/")
        self.src_node, self.des_node = src_node, des_node
        self._payee = {"PayeeBankNo": payee_bank_no, "PayeeOrgCode": payee_org_code, "PayeeAcct": payee_account,
                       "PayeeName": payee_name}
        self._clock = clock
        self._http = http or OutgoingHttp(provider=PROVIDER, timeout=timeout, unavailable=_transport_error)

    # --- the port ---

    def verify_agreement(self, check: AgreementCheck, *, on: dt.date) -> AgreementVerdict:
        """TIPS 9114 → 9115 (interfaces.md §5.1): passed on ``VCResult`` 0, else failed with
        the reason read from the bank's words."""
        _check_account(check.account)
        check_no = secrets.token_hex(8)
        account = check.account
        fields = {
            "SendOrgCode": check.tax_org_code, "EntrustDate": on.strftime("%Y%m%d"), "VCNo": check_no,
            "VCSign": cfx.VC_SIGN_PAPER if check.method is VerifyMethod.PAPER else cfx.VC_SIGN_ELECTRONIC,
            "TaxOrgCode": check.tax_org_code, "TaxPayCode": check.payer_code, "TaxPayName": check.payer_name,
            "HandOrgName": account.account_name, "PayBkCode": account.bank_code,
            "PayOpBkCode": account.open_bank_code or account.bank_code, "PayAcct": account.account_no,
            "ProtocolNo": check.agreement_no,
        }
        answer = self._exchange("9114", {"ProveInfo9114": fields}, expect="9115")
        body = answer.part("ProveReturn9115")
        if body.get("OriVCNo") != check_no or body.get("ProtocolNo") != check.agreement_no:
            raise BankUnavailable("9115 answers another check", code="MISMATCHED_ANSWER")
        words = body.get("AddWord", "")
        if body.get("VCResult") == cfx.VC_PASSED:
            verdict = AgreementVerdict(passed=True, reason=None, check_no=check_no, bank_words=words)
        elif body.get("VCResult") == cfx.VC_FAILED:
            verdict = AgreementVerdict(passed=False, reason=reason_of_words(words), check_no=check_no, bank_words=words)
        else:
            raise BankUnavailable(f"9115 VCResult {body.get('VCResult')!r} unknown", code="BAD_ANSWER")
        logger.info("bank agreement check %s", "passed" if verdict.passed else verdict.reason,
                    extra={"provider": PROVIDER, "check_no": check_no, "passed": verdict.passed})
        return verdict

    def deduct(self, *, idempotency_key: str, agreement_no: str, account: BankAccount, amount_fen: int, on: dt.date,
               tax_org_code: str, payer_code: str, payer_name: str, voucher_no: str = "") -> Deduction:
        """TIPS 1001 → 2001 (interfaces.md §5.2); ``TraNo`` = ``idempotency_key``."""
        _check_key(idempotency_key)
        _check_account(account)
        if amount_fen <= 0:
            raise ValueError("amount_fen must be positive")
        entrust = on.strftime("%Y%m%d")
        parts = {
            "RealHead1001": {"TaxOrgCode": tax_org_code, "EntrustDate": entrust, "TraNo": idempotency_key},
            "TurnAccount1001": {"HandleType": "1", **self._payee, "PayBkCode": account.bank_code,
                                "PayOpBkCode": account.open_bank_code or account.bank_code},
            "Payment1001": {"PayAcct": account.account_no, "HandOrgName": account.account_name, "TraAmt": cfx.yuan_text(amount_fen),
                            "TaxVouNo": voucher_no or idempotency_key, "BillDate": entrust, "TaxPayCode": payer_code,
                            "TaxPayName": payer_name, "ProtocolNo": agreement_no},
        }
        deduction = self._deduction(self._exchange("1001", parts, expect="2001"), idempotency_key)
        if deduction.amount_fen != amount_fen:
            raise BankUnavailable("2001 answers another amount", code="MISMATCHED_ANSWER")
        return deduction

    def deduct_query(self, idempotency_key: str) -> Deduction:
        """9130 → 2001: the answer the bank gave (or would give) to the 1001 with this key."""
        _check_key(idempotency_key)
        try:
            answer = self._exchange("9130", {"TraQuery9130": {"OriTraNo": idempotency_key}}, expect="2001")
        except BankRequestRefused as exc:
            if exc.code == cfx.NOT_FOUND:
                raise DeductionNotFound("the bank has no deduction with this key", code=exc.code) from None
            raise
        return self._deduction(answer, idempotency_key)

    def close(self) -> None:
        self._http.close()

    # --- wire ---

    def _exchange(self, msg_no: str, parts: Mapping[str, Mapping[str, str]], *, expect: str) -> cfx.CfxMessage:
        now = self._clock().astimezone(SHANGHAI)
        msg_id = now.strftime("%Y%m%d") + secrets.token_hex(6)
        head = {"SRC": self.src_node, "DES": self.des_node, "MsgNo": msg_no, "MsgID": msg_id, "MsgRef": msg_id,
                "WorkDate": now.strftime("%Y%m%d")}
        response = self._http.request("POST", f"{self.base_url}/cfx", content=cfx.build(head=head, parts=parts),
                                      headers={"Content-Type": "application/xml; charset=utf-8"}, request_id=msg_id)
        status = response.status_code
        if status >= 500 or status in (408, 429):
            raise BankUnavailable(f"bank front answered HTTP {status}", code=f"HTTP{status}")
        if status >= 400:  # refused before the bank saw it (a wrong path, a proxy's refusal): nothing was done
            raise BankRequestRefused(f"bank front refused the message with HTTP {status}", code=f"HTTP{status}")
        try:
            answer = cfx.parse(response.content)
        except cfx.CfxMalformed as exc:
            raise BankUnavailable(f"unreadable answer to {msg_no}: {exc}", code="BAD_ANSWER") from None
        if answer.msg_no == "9120":
            error = answer.part("ErrInfo9120")
            result, words = error.get("Result", ""), error.get("AddWord", "")
            if result == cfx.SYSTEM_BUSY:
                raise BankUnavailable(f"9120 {result}: {words}", code=result)
            raise BankRequestRefused(f"9120 {result}: {words}", code=result)
        if answer.msg_no != expect or answer.head.get("MsgRef") != msg_id:
            raise BankUnavailable(f"answer {answer.msg_no} to {msg_no} does not match", code="MISMATCHED_ANSWER")
        return answer

    @staticmethod
    def _deduction(answer: cfx.CfxMessage, idempotency_key: str) -> Deduction:
        head, result = answer.part("RealHead2001"), answer.part("TraRes2001")
        if head.get("OriTraNo") != idempotency_key:
            raise BankUnavailable("2001 answers another transaction", code="MISMATCHED_ANSWER")
        try:
            amount_fen = cfx.fen_of(result.get("TraAmt", ""))
            settled_on = dt.datetime.strptime(result["AcctDate"], "%Y%m%d").date() if result.get("AcctDate") else None
        except (cfx.CfxMalformed, ValueError):
            raise BankUnavailable("2001 with an unreadable amount or date", code="BAD_ANSWER") from None
        code, words = result.get("Result", ""), result.get("AddWord", "")
        if code == cfx.SUCCESS:
            return Deduction(idempotency_key=idempotency_key, state=DeductionState.SUCCEEDED, amount_fen=amount_fen,
                             bank_ref=result.get("BankTraNo", ""), settled_on=settled_on, bank_words=words)
        if code == cfx.SYSTEM_BUSY:
            raise BankUnavailable(f"2001 {code}: {words}", code=code)
        if code in (cfx.DUPLICATE_TRA_NO, cfx.FORMAT_ERROR):
            raise BankRequestRefused(f"2001 {code}: {words}", code=code)
        return Deduction(idempotency_key=idempotency_key, state=DeductionState.FAILED, amount_fen=amount_fen,
                         reason=_RESULT_REASON.get(code, FailReason.OTHER), settled_on=settled_on, bank_words=words)


def _check_key(key: str) -> None:
    if not _KEY.match(key or ""):
        raise ValueError("idempotency_key must be 1 to 32 letters and digits")


def _check_account(account: BankAccount) -> None:
    if not _CNAPS.match(account.bank_code) or (account.open_bank_code and not _CNAPS.match(account.open_bank_code)):
        raise BankRequestRefused("bank codes must be 12-digit CNAPS codes", code="BAD_BANK_CODE")
    if not account.account_no.isascii() or not account.account_no.isdigit() or len(account.account_no) > 32:
        raise BankRequestRefused("account numbers are at most 32 digits", code="BAD_ACCOUNT_NO")


__all__ = ["BankError", "TipsBankGateway", "reason_of_words"]
