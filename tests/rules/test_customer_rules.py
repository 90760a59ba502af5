"""The customer's 2020–2021 rules as shipped (migration 0002) behave as the
customer wrote (REQUIREMENTS §2.1 and the CSV notes): the Nanning cases dated
in January, February and after August, Guigang and Wuzhou. Each case reads
the rule version valid on its date, as a screen does, and decides."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal as D

import pytest

from shebao.rules.calculator import calculate_contribution, open_years
from shebao.rules.periods import FeePeriod
from shebao.rules.selectors import rule_get, rules_open
from tests.rules.factories import flexible, periods

pytestmark = pytest.mark.django_db

NANNING, GUIGANG, WUZHOU = "450100", "450800", "450400"
PENSION = "10210-FLEX"


@dataclass(frozen=True)
class Case:
    city: str
    year: int
    today: dt.date
    months: tuple[str, str]
    base: D
    groups: tuple[str, ...] = ()
    total: D | None = None  # allowed, with this total
    refused: tuple[tuple[str, str | None, dt.date | None], ...] = field(default=())  # (reason, period, changes_on)
    says: str = ""  # a phrase of the first refusal's message


CASES = [
    # --- Nanning, January 2021: only year 2020, at its minimum 2955.10 --------
    pytest.param(Case(NANNING, 2020, dt.date(2021, 1, 15), ("2020-01", "2020-12"), D("2955.10"), total=D("7092.24")), id="nanning-2021-01-15-year-2020-whole-year"),
    pytest.param(Case(NANNING, 2020, dt.date(2021, 1, 15), ("2020-12", "2020-12"), D("2955.09"), refused=(("base_below_min", None, None),),
                      says="缴费基数不得低于2955.10元"), id="nanning-2021-01-15-year-2020-below-min"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 1, 15), ("2021-01", "2021-01"), D("3153.90"), refused=(("year_not_open", None, dt.date(2021, 2, 1)),),
                      says="2021年度社保费自2021年2月1日起征收"), id="nanning-2021-01-15-year-2021-not-open"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 1, 31), ("2021-01", "2021-01"), D("3153.90"), refused=(("year_not_open", None, dt.date(2021, 2, 1)),)),
                 id="nanning-2021-01-31-day-before-opening"),
    pytest.param(Case(NANNING, 2020, dt.date(2021, 1, 31), ("2020-12", "2020-12"), D("2955.10"), total=D("591.02")), id="nanning-2021-01-31-year-2020-last-day"),
    # --- Nanning, February 2021: year 2021 at 3153.90, only up to the current month
    pytest.param(Case(NANNING, 2020, dt.date(2021, 2, 1), ("2020-12", "2020-12"), D("2955.10"), refused=(("year_closed", None, None),),
                      says="2020年度社保费已于2021年1月31日截止征收"), id="nanning-2021-02-01-year-2020-closed"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 2, 1), ("2021-01", "2021-02"), D("3153.90"), total=D("1261.56")), id="nanning-2021-02-01-opening-day"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 2, 10), ("2021-01", "2021-02"), D("3153.90"), total=D("1261.56")), id="nanning-2021-02-10-january-february"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 2, 10), ("2021-02", "2021-03"), D("3153.90"),
                      refused=(("period_after_current_month", "2021-03", dt.date(2021, 3, 1)),),
                      says="只能缴纳至当月（2021年2月），2021年3月暂不能缴纳；预计2021年8月公布后可缴纳以后月份"), id="nanning-2021-02-10-march-refused"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 2, 10), ("2021-12", "2021-12"), D("3153.90"),
                      refused=(("period_after_current_month", "2021-12", dt.date(2021, 8, 1)),)), id="nanning-2021-02-10-december-waits-for-august"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 2, 10), ("2021-01", "2021-02"), D("3000.00"), refused=(("base_below_min", None, None),),
                      says="缴费基数不得低于3153.90元，您填写的是3000.00元"), id="nanning-2021-02-10-base-3000"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 2, 10), ("2021-01", "2021-01"), D("3153.90"), groups=("2021年1月退休人员",),
                      refused=(("assessed_group", None, None),), says="2021年1月退休人员的2021年度企业职工基本养老保险由社保经办机构核定，不能自主申报，请按核定结果缴纳（特殊缴费）"),
                 id="nanning-january-2021-retiree-assessed"),
    # --- Nanning, around the publication (a second version from 2021-08-01) ---
    pytest.param(Case(NANNING, 2021, dt.date(2021, 7, 31), ("2021-07", "2021-08"), D("3153.90"),
                      refused=(("period_after_current_month", "2021-08", dt.date(2021, 8, 1)),)), id="nanning-2021-07-31-day-before-publication"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 8, 1), ("2021-03", "2021-12"), D("3153.90"), total=D("6307.80")), id="nanning-2021-08-01-publication-day"),
    pytest.param(Case(NANNING, 2021, dt.date(2021, 8, 15), ("2021-03", "2021-12"), D("3153.90"), total=D("6307.80")), id="nanning-2021-08-15-march-to-december"),
    pytest.param(Case(NANNING, 2021, dt.date(2022, 1, 31), ("2021-01", "2021-12"), D("3153.90"), total=D("7569.36")), id="nanning-2022-01-31-year-2021-last-day"),
    pytest.param(Case(NANNING, 2021, dt.date(2022, 2, 1), ("2021-12", "2021-12"), D("3153.90"), refused=(("year_closed", None, None),)),
                 id="nanning-2022-02-01-year-2021-closed"),
    # --- Guigang: 2020 assessed for everyone; 2021 self at 75 % (3942.40) ----
    pytest.param(Case(GUIGANG, 2020, dt.date(2020, 6, 1), ("2020-01", "2020-05"), D("3679.60"), refused=(("assessed", None, None),),
                      says="该年度由社保经办机构核定：2020年度企业职工基本养老保险不能自主申报，请按核定结果缴纳（特殊缴费）"), id="guigang-2020-assessed"),
    pytest.param(Case(GUIGANG, 2021, dt.date(2021, 3, 15), ("2021-01", "2021-03"), D("3942.39"), refused=(("base_below_min", None, None),),
                      says="缴费基数不得低于3942.40元"), id="guigang-2021-base-3942.39"),
    pytest.param(Case(GUIGANG, 2021, dt.date(2021, 3, 15), ("2021-01", "2021-06"), D("3942.40"), total=D("4730.88")), id="guigang-2021-base-3942.40"),
    # --- Wuzhou 2021: listed groups assessed, everyone else self at 3679.60 ----
    pytest.param(Case(WUZHOU, 2021, dt.date(2021, 3, 15), ("2021-01", "2021-03"), D("3679.60"), groups=("失地农民",),
                      refused=(("assessed_group", None, None),), says="失地农民的2021年度"), id="wuzhou-2021-land-lost-farmer"),
    pytest.param(Case(WUZHOU, 2021, dt.date(2021, 3, 15), ("2021-01", "2021-03"), D("3679.60"), groups=("达到法定退休年龄人员",),
                      refused=(("assessed_group", None, None),)), id="wuzhou-2021-reaching-retirement-age"),
    pytest.param(Case(WUZHOU, 2021, dt.date(2021, 3, 15), ("2021-01", "2021-03"), D("3679.60"), total=D("2207.76")), id="wuzhou-2021-others-self-declare"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_customer_rule(case: Case):
    rule = rule_get(city_code=case.city, contribution_year=case.year, insurance_type_code=PENSION, on=case.today)
    assert rule is not None

    decision = calculate_contribution(
        rule=rule, payer=flexible(case.city, *case.groups), periods=periods(*case.months), base=case.base, today=case.today
    )

    got = tuple((r.reason_code, str(r.period) if r.period else None, r.changes_on) for r in decision.refusals)
    assert got == case.refused
    assert decision.allowed == (case.total is not None)
    assert decision.total == (case.total if case.total is not None else D("0.00"))
    if case.says:
        assert case.says in decision.refusals[0].message
    assert all(
        r.rule_ref == rule.ref and "（依据：广西税务局提供的2020—2021年灵活就业人员基本养老保险缴费规则）" in r.message
        for r in decision.refusals
    )


def test_nanning_monthly_amount_is_630_78():
    rule = rule_get(city_code=NANNING, contribution_year=2021, insurance_type_code=PENSION, on=dt.date(2021, 2, 10))

    decision = calculate_contribution(
        rule=rule, payer=flexible(), periods=periods("2021-01", "2021-02"), base=D("3153.90"), today=dt.date(2021, 2, 10)
    )

    assert [(line.period, line.amount) for line in decision.lines] == [
        (FeePeriod(2021, 1), D("630.78")),
        (FeePeriod(2021, 2), D("630.78")),
    ]


@pytest.mark.parametrize(
    ("today", "years"),
    [
        pytest.param(dt.date(2020, 12, 31), [2020], id="2020-12-31"),
        pytest.param(dt.date(2021, 1, 15), [2020], id="2021-01-15"),
        pytest.param(dt.date(2021, 1, 31), [2020], id="2021-01-31"),
        pytest.param(dt.date(2021, 2, 1), [2021], id="2021-02-01"),
        pytest.param(dt.date(2021, 8, 15), [2021], id="2021-08-15"),
        pytest.param(dt.date(2022, 2, 1), [], id="2022-02-01"),
    ])
def test_nanning_open_years(today, years):
    open_rules = rules_open(city_code=NANNING, insurance_type_code=PENSION, today=today)

    assert [r.contribution_year for r in open_rules] == years
    assert open_years(open_rules, today) == years
