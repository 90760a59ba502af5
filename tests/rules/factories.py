"""Factories for the rules tests (synthetic data only)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from shebao.accounts.models import Account
from shebao.common import crypto
from shebao.reference.models import City, InsuranceType
from shebao.rules.models import ContributionRule
from shebao.rules.periods import FeePeriod
from shebao.rules.snapshot import PayerFacts, RuleSnapshot

D = Decimal
FROZEN_NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
"""The clock of the DB tests: 2026-11-20 10:00 in Shanghai."""

CUSTOMER_POLICY_REF = "广西税务局提供的2020—2021年灵活就业人员基本养老保险缴费规则"

_counter = itertools.count(1)


def periods(start: str, end: str) -> tuple[FeePeriod, ...]:
    return FeePeriod.range(FeePeriod.parse(start), FeePeriod.parse(end))


def snapshot(**overrides: Any) -> RuleSnapshot:
    """A rule like Nanning 2021 before the base is published (REQUIREMENTS §2.1)."""
    values: dict[str, Any] = {
        "ref": "contribution_rule:test",
        "city_code": "450100",
        "city_name": "南宁市",
        "contribution_year": 2021,
        "insurance_type_code": "10210-FLEX",
        "insurance_type_name": "企业职工基本养老保险",
        "person_type": "flexible",
        "calculation": "base_rate",
        "declaration_mode": "self",
        "assessed_groups": (),
        "min_base": D("3153.90"),
        "max_base": D("15769.50"),
        "grades": (D("3153.90"), D("5256.50"), D("15769.50")),
        "rate": D("0.2000"),
        "collection_opens_on": dt.date(2021, 2, 1),
        "collection_closes_on": dt.date(2022, 1, 31),
        "base_published_on": None,
        "base_expected_on": dt.date(2021, 8, 1),
        "pay_only_up_to_current_month_until_published": True,
        "policy_ref": "测试规则〔2021〕1号",
    }
    return RuleSnapshot(**(values | overrides))


def flexible(city_code: str = "450100", *groups: str) -> PayerFacts:
    return PayerFacts(person_type="flexible", city_code=city_code, groups=tuple(groups))


def staff_create(*, is_superuser: bool = True) -> Account:
    n = next(_counter)
    account = Account(
        public_id=crypto.random_token(12),
        username=f"rules_staff{n}",
        is_staff=True,
        is_superuser=is_superuser,
        created_at=FROZEN_NOW,
    )
    account.set_password("correct horse battery staple")
    account.save()
    return account


def rule_make(
    *, city: str = "450300", year: int = 2030, valid_from: dt.date = dt.date(2030, 1, 1), **overrides: Any
) -> ContributionRule:
    """An unsaved flexible-pension rule for a year the shipped data leaves free."""
    values: dict[str, Any] = {
        "city": City.objects.get(division_code=city),
        "contribution_year": year,
        "insurance_type": InsuranceType.objects.get(code="10210-FLEX"),
        "valid_from": valid_from,
        "calculation": "base_rate",
        "declaration_mode": "self",
        "min_base": D("4000.00"),
        "max_base": D("20000.00"),
        "grades": ["4000", "20000.00"],
        "rate": D("0.2000"),
        "collection_opens_on": dt.date(year, 1, 1),
        "collection_closes_on": dt.date(year + 1, 1, 31),
        "policy_ref": "测试规则〔2030〕1号",
        "approved_by": "测试审批人",
    }
    return ContributionRule(**(values | overrides))
