"""Paid items for the refund tests: declared and paid at the embedded core through the port."""

from __future__ import annotations

import itertools
from decimal import Decimal

from django.db import transaction

from shebao.accounts.models import Account
from shebao.adapters.core import get_core
from shebao.adapters.core.port import DeclarationRequest
from shebao.core.demo_data import DEMO_PEOPLE
from shebao.fees.selectors import payer_profile_for
from shebao.reference.banks import luhn_ok

_txn = itertools.count(1)
PENSION = "10210-FLEX"
BASE, RATE = Decimal("4371.00"), Decimal("0.2000")
MONTHLY = (BASE * RATE).quantize(Decimal("0.01"))


def demo_account(n: int = 0) -> Account:
    return next(a for a in Account.objects.all() if a.name == DEMO_PEOPLE[n][0])


def registration_of(account: Account) -> str:
    return payer_profile_for(account).registration_no


def pay_months(account: Account, months: list[int], *, year: int, now) -> str:
    """Declare and pay ``months`` of the pension for ``account``; the registration number."""
    core, reg = get_core(), registration_of(account)
    periods = [f"{year}{m:02d}" for m in months]
    request = DeclarationRequest(insurance_type_code=PENSION, contribution_year=year, period_from=periods[0], period_to=periods[-1],
                                 base_amount=BASE, rate=RATE, lines=tuple((p, MONTHLY) for p in periods), rule_refs=("退费测试",))
    with transaction.atomic():
        declarations = core.declaration_submit(registration_no=reg, requests=[request], now=now)
        core.payment_record(registration_no=reg, declaration_nos=[d.declaration_no for d in declarations], channel="wechatpay",
                            transaction_id=f"4200000{next(_txn):09d}", amount=sum(d.amount for d in declarations), paid_at=now)
    return reg


def card_number(prefix: str = "621700000000000") -> str:
    """A UnionPay debit card number with a valid Luhn digit (16 digits)."""
    return next(prefix + str(d) for d in range(10) if luhn_ok(prefix + str(d)))


def account_named(name: str) -> Account:
    return next(a for a in Account.objects.all() if a.name == name)


def demo_sheet_entry(**changes):
    """The demo refund assessment sheet (core.demo_data.REFUND_SHEETS) as its payer would copy it."""
    import datetime as dt

    from shebao.refunds.services import SheetEntry

    fields = {"sheet_no": "HD45010020251201", "agency": "南宁市社会保险事业局", "insurance_type_code": PENSION, "period": "202512",
              "paid_amount": Decimal("1000.00"), "amount": Decimal("300.00"), "reason": "缴费基数调整多缴退费",
              "assessed_on": dt.date(2026, 1, 15), "handler": "覃明"}
    fields.update(changes)
    return SheetEntry(**fields)
