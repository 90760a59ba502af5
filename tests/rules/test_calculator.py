"""calculate_contribution on plain snapshots: each rule tested just before, at
and after its change (the notify/openfisca discipline), exact amounts, and
each refusal with the rule's own explanation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from shebao.rules import snapshot as snap
from shebao.rules.calculator import calculate_contribution, open_years, payable_periods
from shebao.rules.models import Calculation, DeclarationMode
from shebao.rules.periods import FeePeriod
from shebao.rules.snapshot import ContributionLine, PayerFacts
from tests.rules.factories import flexible, periods, snapshot

DAY = dt.timedelta(days=1)


def decide(rule=None, *, payer=None, months=("2021-01", "2021-02"), base=D("3153.90"), grade=None, today=dt.date(2021, 2, 10)):
    return calculate_contribution(
        rule=rule or snapshot(),
        payer=payer or flexible(),
        periods=periods(*months) if months else (),
        base=base,
        grade=grade,
        today=today,
    )


def test_plain_constants_match_the_model_choices():
    assert {snap.BASE_RATE, snap.FIXED_GRADE, snap.FIXED} == set(Calculation.values)
    assert {snap.SELF, snap.ASSESSED, snap.MIXED} == set(DeclarationMode.values)


def test_two_months_at_the_nanning_minimum():
    decision = decide()

    assert decision.allowed and decision.refusals == ()
    assert decision.lines == (
        ContributionLine(FeePeriod(2021, 1), D("3153.90"), D("0.2000"), D("630.78")),
        ContributionLine(FeePeriod(2021, 2), D("3153.90"), D("0.2000"), D("630.78")),
    )
    assert decision.total == D("1261.56") and decision.rule_ref == "contribution_rule:test"


def test_each_month_is_rounded_then_summed():
    """Rounding rule: quantize(base × rate) per month, total = sum of lines."""
    rule = snapshot(rate=D("0.0833"), pay_only_up_to_current_month_until_published=False)

    decision = decide(rule, months=("2021-01", "2021-03"), base=D("3153.95"))

    # 3153.95 × 0.0833 = 262.723935 → 262.72 a month; the exact product × 3 would be 788.17
    assert [line.amount for line in decision.lines] == [D("262.72")] * 3
    assert decision.total == D("788.16")


@pytest.mark.parametrize(
    ("today", "allowed", "codes", "changes_on"),
    [
        pytest.param(dt.date(2021, 1, 31), False, ("year_not_open",), dt.date(2021, 2, 1), id="opens-1"),
        pytest.param(dt.date(2021, 2, 1), True, (), None, id="opens"),
        pytest.param(dt.date(2021, 2, 2), True, (), None, id="opens+1"),
        pytest.param(dt.date(2022, 1, 30), True, (), None, id="closes-1"),
        pytest.param(dt.date(2022, 1, 31), True, (), None, id="closes"),
        pytest.param(dt.date(2022, 2, 1), False, ("year_closed",), None, id="closes+1"),
    ])
def test_collection_window(today, allowed, codes, changes_on):
    decision = decide(months=("2021-01", "2021-01"), today=today)

    assert (decision.allowed, decision.reason_codes) == (allowed, codes)
    assert [r.changes_on for r in decision.refusals] == ([changes_on] if codes else [])


def test_not_open_message_names_the_opening_day_and_the_rule():
    (refusal,) = decide(months=("2021-01", "2021-01"), today=dt.date(2021, 1, 15)).refusals

    assert refusal.message == "2021年度社保费自2021年2月1日起征收，今天（2021年1月15日）尚不能缴纳（依据：测试规则〔2021〕1号）"
    assert (refusal.period, refusal.rule_ref) == (None, "contribution_rule:test")


def test_closed_message():
    (refusal,) = decide(months=("2021-01", "2021-01"), today=dt.date(2022, 2, 1)).refusals

    assert refusal.message == "2021年度社保费已于2022年1月31日截止征收，不能再自主申报缴纳（依据：测试规则〔2021〕1号）"


@pytest.mark.parametrize(
    ("today", "codes"),
    [
        pytest.param(dt.date(2021, 2, 28), ("period_after_current_month",), id="last-day-of-February"),
        pytest.param(dt.date(2021, 3, 1), (), id="first-day-of-March"),
    ])
def test_the_current_month_moves_with_the_calendar(today, codes):
    assert decide(months=("2021-01", "2021-03"), today=today).reason_codes == codes


@pytest.mark.parametrize(
    ("published_on", "codes"),
    [
        pytest.param(dt.date(2021, 5, 11), ("period_after_current_month",), id="published-tomorrow"),
        pytest.param(dt.date(2021, 5, 10), (), id="published-today"),
        pytest.param(dt.date(2021, 5, 9), (), id="published-yesterday"),
    ])
def test_publication_lifts_the_current_month_restriction(published_on, codes):
    rule = snapshot(base_published_on=published_on)

    assert decide(rule, months=("2021-05", "2021-06"), today=dt.date(2021, 5, 10)).reason_codes == codes


def test_later_periods_name_the_day_they_become_payable():
    """A later month becomes payable when it arrives or when the base is
    expected, whichever comes first."""
    decision = decide(months=("2021-02", "2021-12"))

    refused = {r.period: r.changes_on for r in decision.refusals}
    assert list(refused) == list(periods("2021-03", "2021-12"))
    assert refused[FeePeriod(2021, 3)] == dt.date(2021, 3, 1)
    assert refused[FeePeriod(2021, 7)] == dt.date(2021, 7, 1)
    assert refused[FeePeriod(2021, 8)] == refused[FeePeriod(2021, 12)] == dt.date(2021, 8, 1)
    assert decision.refusals[0].message == (
        "2021年度缴费基数公布前，只能缴纳至当月（2021年2月），2021年3月暂不能缴纳；预计2021年8月公布后可缴纳以后月份（依据：测试规则〔2021〕1号）"
    )
    assert decision.total == D("0.00") and decision.lines == ()


def test_an_expected_date_already_past_promises_nothing():
    rule = snapshot(base_expected_on=dt.date(2021, 8, 1))

    (refusal,) = decide(rule, months=("2021-09", "2021-10"), today=dt.date(2021, 9, 5)).refusals

    assert (refusal.period, refusal.changes_on) == (FeePeriod(2021, 10), dt.date(2021, 10, 1))
    assert "预计" not in refusal.message


@pytest.mark.parametrize(
    ("base", "codes", "message"),
    [
        pytest.param(D("3153.89"), ("base_below_min",), "缴费基数不得低于3153.90元，您填写的是3153.89元", id="min-0.01"),
        pytest.param(D("3153.90"), (), None, id="min"),
        pytest.param(D("15769.50"), (), None, id="max"),
        pytest.param(D("15769.51"), ("base_above_max",), "缴费基数不得高于15769.50元，您填写的是15769.51元", id="max+0.01"),
        pytest.param(D("3153.905"), ("base_not_fen",), "缴费基数应为精确到分的金额", id="finer-than-a-fen"),
        pytest.param(None, ("base_missing",), "请填写缴费基数（3153.90元至15769.50元）", id="missing"),
    ])
def test_base_range(base, codes, message):
    decision = decide(base=base)

    assert decision.reason_codes == codes
    if message:
        assert decision.refusals[0].message == f"{message}（依据：测试规则〔2021〕1号）"


def test_any_base_within_the_range_is_allowed_not_only_the_grades():
    assert decide(base=D("4000.01")).total == D("1600.00")


@pytest.mark.parametrize(
    ("mode", "groups", "person_groups", "codes"),
    [
        pytest.param("assessed", (), (), ("assessed",), id="assessed-everyone"),
        pytest.param("mixed", ("失地农民",), ("失地农民",), ("assessed_group",), id="mixed-listed"),
        pytest.param("mixed", ("失地农民",), ("达到法定退休年龄人员",), (), id="mixed-other"),
        pytest.param("self", (), ("失地农民",), (), id="self"),
    ])
def test_declaration_mode(mode, groups, person_groups, codes):
    rule = snapshot(declaration_mode=mode, assessed_groups=groups)

    assert decide(rule, payer=flexible("450100", *person_groups)).reason_codes == codes


def test_assessed_message_sends_the_person_to_the_special_payment():
    (refusal,) = decide(snapshot(declaration_mode="assessed")).refusals

    assert refusal.message == (
        "该年度由社保经办机构核定：2021年度企业职工基本养老保险不能自主申报，请按核定结果缴纳（特殊缴费）（依据：测试规则〔2021〕1号）"
    )


def test_periods_must_belong_to_the_year_and_appear_once():
    decision = calculate_contribution(
        rule=snapshot(), payer=flexible(), periods=[FeePeriod(2020, 12), FeePeriod(2021, 1), FeePeriod(2021, 1)], base=D("3153.90"),
        today=dt.date(2021, 2, 10),
    )  # fmt: skip

    assert [(r.reason_code, r.period) for r in decision.refusals] == [
        ("period_duplicate", FeePeriod(2021, 1)),
        ("period_outside_year", FeePeriod(2020, 12)),
    ]
    assert decide(months=None).reason_codes == ("no_periods",)


def test_the_rule_must_be_the_persons():
    resident = PayerFacts(person_type="resident", city_code="450800")

    assert decide(payer=resident).reason_codes == ("wrong_city", "wrong_person_type")


RESIDENT_PENSION = dict(
    person_type="resident", insurance_type_code="10210-RES", insurance_type_name="城乡居民基本养老保险", calculation="fixed_grade",
    min_base=None, max_base=None, grades=(D("200.00"), D("300.00"), D("5000.00")), rate=D("0"), contribution_year=2026,
    collection_opens_on=dt.date(2026, 1, 1), collection_closes_on=dt.date(2026, 12, 31), base_expected_on=None,
    pay_only_up_to_current_month_until_published=False)  # fmt: skip


def test_resident_pension_pays_one_grade_for_the_year():
    rule = snapshot(**RESIDENT_PENSION)
    resident = PayerFacts(person_type="resident", city_code="450100")

    decision = calculate_contribution(rule=rule, payer=resident, periods=(), base=None, grade=D("300"), today=dt.date(2026, 3, 2))
    refused = calculate_contribution(
        rule=rule, payer=resident, periods=(), base=None, grade=D("250.00"), today=dt.date(2026, 3, 2)
    )

    assert decision.lines == (ContributionLine(FeePeriod(2026, 1), None, None, D("300.00")),)
    assert decision.total == D("300.00") and decision.periods == periods("2026-01", "2026-12")
    assert refused.reason_codes == ("grade_not_offered",)
    assert "请在以下缴费档次中选择：200.00元、300.00元、5000.00元" in refused.refusals[0].message


def test_resident_medical_has_one_fixed_amount():
    rule = snapshot(**(RESIDENT_PENSION | {"calculation": "fixed", "grades": (D("400.00"),)}))
    resident = PayerFacts(person_type="resident", city_code="450100")

    allowed = calculate_contribution(
        rule=rule, payer=resident, periods=periods("2026-01", "2026-12"), base=None, today=dt.date(2026, 3, 2)
    )
    part_year = calculate_contribution(
        rule=rule, payer=resident, periods=periods("2026-01", "2026-06"), base=None, today=dt.date(2026, 3, 2)
    )

    assert allowed.total == D("400.00")
    assert part_year.reason_codes == ("annual_only",)


def test_programming_errors_are_type_errors_not_refusals():
    with pytest.raises(TypeError):
        decide(base=3153.9)
    with pytest.raises(TypeError):
        decide(today=dt.datetime(2021, 2, 10, tzinfo=dt.UTC))
    with pytest.raises(TypeError):
        calculate_contribution(
            rule=snapshot(), payer=flexible(), periods=["202101"], base=D("3153.90"), today=dt.date(2021, 2, 10)
        )


def test_open_years_and_payable_periods():
    year_2020 = snapshot(
        contribution_year=2020, collection_opens_on=dt.date(2020, 1, 1), collection_closes_on=dt.date(2021, 1, 31)
    )
    year_2021 = snapshot()

    assert open_years([year_2021, year_2020], dt.date(2021, 1, 31)) == [2020]
    assert open_years([year_2021, year_2020], dt.date(2021, 2, 1)) == [2021]
    assert payable_periods(year_2021, dt.date(2021, 2, 10)) == periods("2021-01", "2021-02")
    assert payable_periods(year_2021, dt.date(2021, 1, 10)) == ()
    assert payable_periods(snapshot(base_published_on=dt.date(2021, 8, 1)), dt.date(2021, 8, 1)) == periods("2021-01", "2021-12")
