"""Banks a refund (and later a deduction agreement) can be paid to, and how each checks an
account number. The codes are the banks' national bank-class codes (行别代码).

Debit cards of UnionPay (numbers of 16 to 19 digits starting 62) carry a Luhn check digit,
as card numbers do (ISO/IEC 7812); other account numbers (passbooks, old accounts) are
checked for digits and length only, as the bank's own form does."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bank:
    code: str
    name: str


BANKS: tuple[Bank, ...] = (
    Bank("102", "中国工商银行"),
    Bank("103", "中国农业银行"),
    Bank("104", "中国银行"),
    Bank("105", "中国建设银行"),
    Bank("301", "交通银行"),
    Bank("403", "中国邮政储蓄银行"),
    Bank("313", "广西北部湾银行"),
    Bank("402", "广西农村信用社（农商银行）"),
)
BANK_NAMES = {b.code: b.name for b in BANKS}
# The 12-digit CNAPS code (支付系统行号) of each bank's clearing branch in Nanning, which a
# deduction agreement names as the paying bank (付款行行号, TIPS PayBkCode): the bank class
# code, then the place and branch. Placeholder branch numbers until the banks confirm theirs.
CLEARING_BANK_CODES = {b.code: f"{b.code}611000017" for b in BANKS}


def luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def bank_account_problem(bank_code: str, number: str) -> str | None:
    """Why ``number`` is not an account of bank ``bank_code`` as the bank checks it, in the
    person's words; None when it passes."""
    if bank_code not in BANK_NAMES:
        return "请选择开户银行"
    if not number:
        return "请输入银行账号"
    if not number.isascii() or not number.isdigit():
        return "银行账号只能包含数字"
    if not 12 <= len(number) <= 25:
        return "银行账号应为12至25位数字，请核对"
    if number.startswith("62") and 16 <= len(number) <= 19 and not luhn_ok(number):
        return "银行卡号校验未通过，请核对后重新输入"
    return None
