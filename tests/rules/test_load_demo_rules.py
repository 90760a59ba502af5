"""``manage.py load_demo_rules`` (seed_demo calls it): the current-year demo set, idempotent, and
decided by the same calculator."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command

from shebao.rules.calculator import calculate_contribution, open_years
from shebao.rules.models import ContributionRule
from shebao.rules.selectors import rule_get, rules_open
from shebao.rules.snapshot import PayerFacts
from tests.rules.factories import flexible, periods

pytestmark = pytest.mark.django_db

DEMO = "演示数据（非真实政策）"


def load() -> str:
    out = io.StringIO()
    call_command("load_demo_rules", stdout=out)
    return out.getvalue()


def test_needs_the_reference_data_first():
    with pytest.raises(CommandError, match="seed_demo"):
        load()


def test_loads_every_city_once(reference_data):
    ContributionRule.objects.filter(policy_ref=DEMO).delete()  # seed_demo (the fixture) loads them too

    first, second = load(), load()

    assert "新增 105 条" in first and "新增 0 条" in second  # 15 cities × (3 flexible + 2 × 2 resident)
    assert ContributionRule.objects.filter(policy_ref=DEMO).count() == 105
    wuzhou = rule_get(city_code="450400", contribution_year=2026, insurance_type_code="10210-FLEX", on=dt.date(2026, 11, 20))
    assert (wuzhou.declaration_mode, wuzhou.assessed_groups) == ("mixed", ("达到法定退休年龄人员",))


def test_demo_flexible_pension(reference_data):
    rule = rule_get(city_code="450100", contribution_year=2026, insurance_type_code="10210-FLEX", on=dt.date(2026, 11, 20))

    decision = calculate_contribution(
        rule=rule, payer=flexible(), periods=periods("2026-01", "2026-12"), base=D("4371.00"), today=dt.date(2026, 11, 20)
    )
    before_publication = calculate_contribution(
        rule=rule, payer=flexible(), periods=periods("2026-03", "2026-04"), base=D("4371.00"), today=dt.date(2026, 3, 2)
    )

    assert (rule.min_base, rule.max_base, rule.grades[-1]) == (D("4371.00"), D("21855.00"), D("21855.00"))
    assert decision.total == D("874.20") * 12
    assert [(r.reason_code, str(r.period), r.changes_on) for r in before_publication.refusals] == [
        ("period_after_current_month", "2026-04", dt.date(2026, 4, 1))
    ]


def test_demo_residents_pay_next_year_from_september(reference_data):
    resident = PayerFacts(person_type="resident", city_code="450300")

    assert open_years(
        rules_open(city_code="450300", insurance_type_code="10210-RES", today=dt.date(2026, 8, 31)), dt.date(2026, 8, 31)
    ) == [2026]
    assert [
        r.contribution_year for r in rules_open(city_code="450300", insurance_type_code="10212-RES", today=dt.date(2026, 9, 1))
    ] == [2026, 2027]
    medical_2027 = rule_get(city_code="450300", contribution_year=2027, insurance_type_code="10212-RES", on=dt.date(2026, 11, 20))
    pension_2026 = rule_get(city_code="450300", contribution_year=2026, insurance_type_code="10210-RES", on=dt.date(2026, 11, 20))

    medical = calculate_contribution(rule=medical_2027, payer=resident, periods=(), base=None, today=dt.date(2026, 11, 20))
    pension = calculate_contribution(
        rule=pension_2026, payer=resident, periods=(), base=None, grade=D("1500"), today=dt.date(2026, 11, 20)
    )

    assert (medical.allowed, medical.total) == (True, D("420.00"))
    assert (pension.allowed, pension.total) == (True, D("1500.00"))
