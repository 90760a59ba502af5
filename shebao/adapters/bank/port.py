"""BankGateway port: what the service needs from the banks, in our vocabulary
(REQUIREMENTS §2.4–2.6; interfaces.md §5, the TIPS-style messages behind it).

Two questions and one order:

* ``verify_agreement`` — "does this bank account, under this name, belong to this
  agreement?" (TIPS 9114 asked, 9115 answered): passed, or failed with a reason the
  person can act on. Electronically the bank compares the account and its name; for a
  paper agreement it also needs the counter's record of it (柜面录入).
* ``deduct`` — "take this amount from this agreement's account" (TIPS 1001, real-time
  deduction), idempotent by our ``idempotency_key``: the same key always gets the same
  answer and moves money at most once; the same key with other fields is refused.
* ``deduct_query`` — "what became of the deduction with this key?", for when ``deduct``
  timed out and its outcome is unknown.

Amounts are integer fen here, at the bank boundary (house rule "Money"); the domain
converts from and to ``Decimal`` yuan. Nothing of the bank's wire format (message
numbers, result codes, XML) leaves the adapter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class VerifyMethod(StrEnum):
    ELECTRONIC = "electronic"  # the bank checks account number and name (网上签约)
    PAPER = "paper"  # the bank also needs the agreement entered at its counter (柜面录入)


class FailReason(StrEnum):
    """Why the bank said no, in our words. ``reason_text`` gives the sentence for the person."""

    NAME_MISMATCH = "name_mismatch"
    ACCOUNT_NOT_FOUND = "account_not_found"
    ACCOUNT_CLOSED = "account_closed"
    AGREEMENT_NOT_FOUND = "agreement_not_found"  # no (active) agreement at the bank for this account
    INSUFFICIENT_BALANCE = "insufficient_balance"
    OTHER = "other"


REASON_TEXT = {
    FailReason.NAME_MISMATCH: "账户名称与银行预留的户名不一致，请核对后重新填写",
    FailReason.ACCOUNT_NOT_FOUND: "银行未查到该账号，请核对开户银行和银行账号",
    FailReason.ACCOUNT_CLOSED: "该银行账户已销户或不可用，请更换其他账户",
    FailReason.AGREEMENT_NOT_FOUND: "银行未查到该协议或协议未生效；纸质协议请先到银行柜面办理签约",
    FailReason.INSUFFICIENT_BALANCE: "银行账户余额不足，请存入足够金额后再扣款",
    FailReason.OTHER: "银行未能办理，请稍后再试或咨询开户银行",
}


def reason_text(reason: FailReason | None) -> str:
    return REASON_TEXT[reason] if reason is not None else ""


@dataclass(frozen=True)
class BankAccount:
    """A payer's account at a bank. ``bank_code`` is the 12-digit CNAPS code of the paying
    (clearing) bank (付款行行号), ``open_bank_code`` that of the branch holding the account
    (付款开户行行号; the clearing bank's when unknown)."""

    bank_code: str
    account_no: str
    account_name: str
    open_bank_code: str = ""

    def __repr__(self) -> str:  # account numbers and names are personal data: never whole in logs
        return f"BankAccount(bank_code={self.bank_code!r}, account_no='…{self.account_no[-4:]}')"


@dataclass(frozen=True)
class AgreementCheck:
    """One agreement to verify (the content of a 9114): the agreement number we generated,
    the payer as the tax bureau knows them, and the account they named."""

    agreement_no: str  # 协议书号, ≤ 60
    tax_org_code: str  # 征收机关代码, ≤ 12
    payer_code: str  # 缴费人编码 / 纳税人识别号
    payer_name: str
    account: BankAccount
    method: VerifyMethod = VerifyMethod.ELECTRONIC

    def __repr__(self) -> str:
        return f"AgreementCheck(agreement_no={self.agreement_no!r}, method={self.method!r}, account={self.account!r})"


@dataclass(frozen=True)
class AgreementVerdict:
    """The bank's answer (a 9115): ``passed``, else ``reason`` (and its sentence).
    ``check_no`` is the verification serial (验证流水号) we sent, ``bank_words`` the bank's
    own words (附言), kept for the record, never shown as they are."""

    passed: bool
    reason: FailReason | None
    check_no: str
    bank_words: str = ""

    @property
    def reason_text(self) -> str:
        return reason_text(self.reason)


class DeductionState(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Deduction:
    """The bank's answer to one deduction, the same for every repeat of its key.
    ``bank_ref`` is the bank's serial number (银行流水号) of a deduction that took money."""

    idempotency_key: str
    state: DeductionState
    amount_fen: int
    reason: FailReason | None = None
    bank_ref: str = ""
    settled_on: dt.date | None = None  # the bank's accounting date (Asia/Shanghai)
    bank_words: str = ""

    @property
    def succeeded(self) -> bool:
        return self.state is DeductionState.SUCCEEDED

    @property
    def reason_text(self) -> str:
        return reason_text(self.reason)


class BankError(Exception):
    """A bank call gave no answer to act on. ``retryable``: sending the IDENTICAL request
    again may help (same idempotency key, same fields). A deduction that raised a
    retryable error has an unknown outcome: resolve it by ``deduct_query`` or by sending
    the identical request again — never with a new key. ``code`` is ours or the bank's."""

    retryable = False

    def __init__(self, message: str, *, code: str = "", retryable: bool | None = None):
        super().__init__(message)
        self.code = code
        if retryable is not None:
            self.retryable = retryable


class BankUnavailable(BankError):
    """Timeout, connection refused, the bank's own trouble (HTTP 5xx, "system busy"): retryable."""

    retryable = True


class BankRequestRefused(BankError):
    """The bank refused the request itself (a malformed field, an unknown bank code, an
    idempotency key already used with other fields): final, do not send it again."""


class DeductionNotFound(BankError):
    """``deduct_query``: the bank has no deduction with this key (it never arrived): final."""


class BankGateway(Protocol):
    name: str  # stored with each call's record, e.g. "tips"

    def verify_agreement(self, check: AgreementCheck, *, on: dt.date) -> AgreementVerdict:
        """Ask the bank whether the agreement is usable (TIPS 9114/9115). ``on`` is the
        entrust date (委托日期). Raises ``BankError`` when there is no verdict."""
        ...

    def deduct(self, *, idempotency_key: str, agreement_no: str, account: BankAccount, amount_fen: int, on: dt.date,
               tax_org_code: str, payer_code: str, payer_name: str, voucher_no: str = "") -> Deduction:
        """Deduct ``amount_fen`` from ``account`` under agreement ``agreement_no`` (TIPS 1001).
        Idempotent by ``idempotency_key`` (≤ 32 letters and digits): the same key answers the
        same ``Deduction`` and never moves money twice; the same key with other fields raises
        ``BankRequestRefused``. A ``BankUnavailable`` leaves the outcome unknown."""
        ...

    def deduct_query(self, idempotency_key: str) -> Deduction:
        """The bank's answer to the deduction with this key (``DeductionNotFound`` if none)."""
        ...
