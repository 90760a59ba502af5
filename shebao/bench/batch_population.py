"""Synthetic residents on batch deduction, for the batch benchmark (``manage.py bench_batch``)
and the batch crash test: each one a payer at the embedded core, an account, an active
two-party agreement with a card, a payable amount in force — and, at the bank simulator,
the card (with money on it) and the bank's record of the agreement. Written in pages with
``bulk_create`` (and ``executemany`` at the simulator); numbered from ``start`` so a larger
run adds to a smaller one. ID numbers are not needed (the accounts carry none)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from shebao.accounts.models import Account
from shebao.adapters.bank.sim_store import BankSimStore
from shebao.agreements.models import PayableAmountChoice, TwoPartyAgreement, TwoPartyState
from shebao.common import crypto
from shebao.core.models import Agency, Payer, TaxOffice
from shebao.reference.models import City, IdType, PersonType
from shebao.rules.models import ContributionRule
from shebao.rules.selectors import rule_ref

PAGE = 5000
BALANCE_FEN = 1_000_000  # 10,000 yuan on every card
_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN = "伟芳娜敏静丽强磊军洋"


def name_of(i: int) -> str:
    return _SURNAMES[i % 10] + _GIVEN[(i // 10) % 10] + _GIVEN[(i // 100) % 10]


def registration_of(city_code: str, i: int) -> str:
    return f"109{city_code}{i:011d}"


def card_of(i: int) -> str:
    return f"62220299{i:011d}"


def _rule(city_code: str, insurance_type_code: str, year: int) -> ContributionRule:
    return (ContributionRule.objects.filter(city__division_code=city_code, insurance_type__code=insurance_type_code,
                                            contribution_year=year).order_by("-valid_from").first())


def residents_on_batch(*, start: int, count: int, city_code: str, insurance_type_code: str, year: int, bank_state: Path,
                       now: dt.datetime, amount: Decimal | None = None) -> int:
    """Residents ``start`` … ``start + count - 1`` (module docstring); how many were added."""
    city = City.objects.get(division_code=city_code)
    agency = Agency.objects.get(code=f"SB{city_code}")
    tax_office = TaxOffice.objects.filter(city=city).order_by("code").first()
    rule = _rule(city_code, insurance_type_code, year)
    grade = amount or Decimal(str(rule.grades[0]))
    tax_org_code = settings.BANK["TAX_ORG_CODE"]
    store = BankSimStore(bank_state)
    for first in range(start, start + count, PAGE):
        numbers = range(first, min(first + PAGE, start + count))
        with transaction.atomic():
            accounts = Account.objects.bulk_create([
                Account(public_id=crypto.random_token(12), username=f"bb{i:09d}", person_type=PersonType.RESIDENT, name=name_of(i),
                        mobile=f"176{i:08d}", password="!", created_at=now) for i in numbers])
            Payer.objects.bulk_create([
                Payer(public_id=crypto.random_token(12), registration_no=registration_of(city_code, i),
                      person_no=f"{city_code[:4]}9{i:011d}", name=name_of(i), id_type=IdType.RESIDENT_ID, id_number=f"B{i:017d}",
                      id_index=f"bench:{i}", person_type=PersonType.RESIDENT, city=city, agency=agency, tax_office=tax_office,
                      registered_on=now.date()) for i in numbers])
            TwoPartyAgreement.objects.bulk_create([
                TwoPartyAgreement(public_id=crypto.random_token(12), agreement_no=f"LLB{i:012d}", account=account, for_self=True,
                                  registration_no=registration_of(city_code, i), payer_name=name_of(i), id_type=IdType.RESIDENT_ID,
                                  id_number=f"B{i:017d}", bank_code="102", bank_name="中国工商银行", account_number=card_of(i),
                                  account_masked=f"6222 **** **** {card_of(i)[-4:]}", account_name=name_of(i),
                                  state=TwoPartyState.ACTIVE, created_at=now, activated_at=now)
                for i, account in zip(numbers, accounts, strict=True)])
            PayableAmountChoice.objects.bulk_create([
                PayableAmountChoice(account=account, registration_no=registration_of(city_code, i), insurance_type_code=insurance_type_code,
                                    insurance_type=rule.insurance_type.name, contribution_year=year, amount=grade, rule_ref=rule_ref(rule.pk),
                                    chosen_at=now) for i, account in zip(numbers, accounts, strict=True)])
        with store.tx() as db:
            db.executemany("INSERT OR REPLACE INTO accounts VALUES (?, '102', ?, ?, 'normal')",
                           [(card_of(i), name_of(i), BALANCE_FEN) for i in numbers])
            db.executemany("INSERT OR REPLACE INTO agreements VALUES (?, ?, ?, ?, ?, ?, 'electronic', 'active', ?)",
                           [(tax_org_code, f"LLB{i:012d}", card_of(i), name_of(i), registration_of(city_code, i), name_of(i),
                             now.timestamp()) for i in numbers])
    return count
