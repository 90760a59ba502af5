"""The one decision on a self-declared contribution (REQUIREMENTS §2.1).

``calculate_contribution`` answers "may this person pay these periods at this
base today, how much, and if not, which rule says no and when that changes".
It is PURE: plain values in (``RuleSnapshot``, ``PayerFacts``, FeePeriods,
Decimal, a date), a ``Decision`` out; no ORM, no clock, no float. Every screen
and API asks it (through ``selectors.rule_get`` + ``rule_snapshot``).

Rounding rule (the only one): a month's amount is
``quantize_yuan(base × rate)`` (half up to the fen) and the total is the sum of
the lines, so the receipt lines add up exactly and
``total == quantize_yuan(base × rate) × months``. Example (Nanning 2021):
3153.90 × 0.20 = 630.78 a month, 1261.56 for two months.

For ``base_rate`` any base within [min_base, max_base] exact to the fen is
accepted; ``grades`` are the suggested bases a screen offers, not a limit.
For ``fixed_grade`` the grade must be one of ``grades``; ``fixed`` has one
yearly amount (``grades[0]``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal

from shebao.rules.money import FEN, ZERO, quantize_yuan
from shebao.rules.periods import FeePeriod
from shebao.rules.snapshot import (
    ASSESSED,
    BASE_RATE,
    FIXED,
    MIXED,
    PERSON_TYPE_LABELS,
    YEARLY_CALCULATIONS,
    ContributionLine,
    Decision,
    PayerFacts,
    Refusal,
    RuleSnapshot,
)

# The value types live in snapshot.py (importable without Django) and are
# re-exported here: ``from shebao.rules.calculator import Decision`` works.
__all__ = [
    "ContributionLine", "Decision", "PayerFacts", "Refusal", "RuleSnapshot",
    "calculate_contribution", "open_years", "payable_periods",
]  # fmt: skip


def calculate_contribution(
    *,
    rule: RuleSnapshot,
    payer: PayerFacts,
    periods: Sequence[FeePeriod],
    base: Decimal | None,
    grade: Decimal | None = None,
    today: dt.date,
) -> Decision:
    """Decide a self-declaration of ``periods`` under ``rule`` on ``today``.

    Every constraint is checked and every one that fails is a Refusal (with
    the period it concerns, or None for the whole request):
    the rule's city and person type; the year open today (collection_opens_on
    ≤ today ≤ collection_closes_on); the declaration mode (assessed: nobody
    self-declares; mixed: the assessed_groups do not); base within
    [min_base, max_base] (base_rate) or the grade offered (fixed kinds); the
    periods in the contribution year, each once; and, until the year's base
    is published where the rule says so, no period after the current month.
    ``grade`` is read only by the yearly kinds. See the module docstring for
    the rounding rule."""
    periods = _checked_inputs(periods, base, grade, today)
    refusals = [
        *_who_refusals(rule, payer),
        *_when_refusals(rule, today),
        *_mode_refusals(rule, payer),
        *_amount_refusals(rule, base, grade),
        *_period_refusals(rule, periods, today),
    ]
    paid_periods = rule.year_periods() if rule.calculation in YEARLY_CALCULATIONS else periods
    if refusals:
        return Decision(False, ZERO, (), tuple(refusals), rule.ref, paid_periods)
    lines = _lines(rule, periods, base, grade)
    total = sum((line.amount for line in lines), ZERO)
    return Decision(True, total, lines, (), rule.ref, paid_periods)


def open_years(rules_for_city_and_type: Iterable[RuleSnapshot], today: dt.date) -> list[int]:
    """Contribution years collectable today, ascending (REQUIREMENTS §2.1 "which
    contribution year can be paid when"; e.g. Nanning on 2021-01-15 → [2020])."""
    return sorted({rule.contribution_year for rule in rules_for_city_and_type if rule.is_open(today)})


def payable_periods(rule: RuleSnapshot, today: dt.date) -> tuple[FeePeriod, ...]:
    """The periods of the rule's year a screen may offer today: none if the year
    is not open, up to the current month while the restriction holds."""
    if not rule.is_open(today):
        return ()
    periods = rule.year_periods()
    if rule.calculation == BASE_RATE and rule.restricts_to_current_month(today):
        current = FeePeriod.of(today)
        periods = tuple(p for p in periods if p <= current)
    return periods


def _checked_inputs(periods: Sequence[FeePeriod], base: object, grade: object, today: object) -> tuple[FeePeriod, ...]:
    """Programming errors are TypeErrors, never refusals: a float amount, a
    datetime for today, a period that is not a FeePeriod."""
    for name, value in (("base", base), ("grade", grade)):
        if value is not None and not isinstance(value, Decimal):
            raise TypeError(f"{name} 必须是 Decimal 或 None（不得使用 float），收到 {type(value).__name__}")
    if isinstance(today, dt.datetime) or not isinstance(today, dt.date):
        raise TypeError("today 必须是 date（上海本地日期）")
    result = tuple(periods)
    if not all(isinstance(p, FeePeriod) for p in result):
        raise TypeError("periods 必须是 FeePeriod 序列")
    return result


def _cite(rule: RuleSnapshot, text: str) -> str:
    return f"{text}（依据：{rule.policy_ref}）"


def _day(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _refuse(
    rule: RuleSnapshot, code: str, text: str, *, period: FeePeriod | None = None, changes_on: dt.date | None = None
) -> Refusal:
    return Refusal(period=period, rule_ref=rule.ref, reason_code=code, message=_cite(rule, text), changes_on=changes_on)


def _who_refusals(rule: RuleSnapshot, payer: PayerFacts) -> list[Refusal]:
    refusals = []
    if payer.city_code != rule.city_code:
        refusals.append(_refuse(rule, "wrong_city", f"该缴费规则适用于{rule.city_name}，与您的参保地不符"))
    if payer.person_type != rule.person_type:
        who = PERSON_TYPE_LABELS.get(rule.person_type, rule.person_type)
        refusals.append(_refuse(rule, "wrong_person_type", f"{rule.insurance_type_name}仅限{who}缴纳"))
    return refusals


def _when_refusals(rule: RuleSnapshot, today: dt.date) -> list[Refusal]:
    year, opens, closes = rule.contribution_year, rule.collection_opens_on, rule.collection_closes_on
    if today < opens:
        text = f"{year}年度社保费自{_day(opens)}起征收，今天（{_day(today)}）尚不能缴纳"
        return [_refuse(rule, "year_not_open", text, changes_on=opens)]
    if closes is not None and today > closes:
        return [_refuse(rule, "year_closed", f"{year}年度社保费已于{_day(closes)}截止征收，不能再自主申报缴纳")]
    return []


def _mode_refusals(rule: RuleSnapshot, payer: PayerFacts) -> list[Refusal]:
    what = f"{rule.contribution_year}年度{rule.insurance_type_name}"
    advice = "不能自主申报，请按核定结果缴纳（特殊缴费）"
    if rule.declaration_mode == ASSESSED:
        return [_refuse(rule, "assessed", f"该年度由社保经办机构核定：{what}{advice}")]
    if rule.declaration_mode == MIXED:
        groups = [g for g in rule.assessed_groups if g in payer.groups]
        if groups:
            return [_refuse(rule, "assessed_group", f"{'、'.join(groups)}的{what}由社保经办机构核定，{advice}")]
    return []


def _amount_refusals(rule: RuleSnapshot, base: Decimal | None, grade: Decimal | None) -> list[Refusal]:
    if rule.calculation == BASE_RATE:
        return _base_refusals(rule, base)
    if rule.calculation in YEARLY_CALCULATIONS:
        return _grade_refusals(rule, grade)
    return [_refuse(rule, "rule_incomplete", f"缴费规则的计算方式“{rule.calculation}”无法识别，请联系主管税务机关")]


def _base_refusals(rule: RuleSnapshot, base: Decimal | None) -> list[Refusal]:
    if rule.min_base is None or rule.max_base is None:
        return [_refuse(rule, "rule_incomplete", "缴费规则未设置缴费基数上下限，请联系主管税务机关")]
    if base is None:
        return [_refuse(rule, "base_missing", f"请填写缴费基数（{rule.min_base:.2f}元至{rule.max_base:.2f}元）")]
    if not base.is_finite() or base != base.quantize(FEN):
        return [_refuse(rule, "base_not_fen", "缴费基数应为精确到分的金额")]
    if base < rule.min_base:
        return [_refuse(rule, "base_below_min", f"缴费基数不得低于{rule.min_base:.2f}元，您填写的是{base:.2f}元")]
    if base > rule.max_base:
        return [_refuse(rule, "base_above_max", f"缴费基数不得高于{rule.max_base:.2f}元，您填写的是{base:.2f}元")]
    return []


def _grade_refusals(rule: RuleSnapshot, grade: Decimal | None) -> list[Refusal]:
    if not rule.grades or (rule.calculation == FIXED and len(rule.grades) != 1):
        return [_refuse(rule, "rule_incomplete", "缴费规则未设置缴费档次，请联系主管税务机关")]
    if rule.calculation == FIXED:
        if grade is None or grade == rule.grades[0]:
            return []
        text = f"{rule.contribution_year}年度{rule.insurance_type_name}的缴费标准为{rule.grades[0]:.2f}元"
        return [_refuse(rule, "grade_not_offered", text)]
    if grade is None or grade not in rule.grades:
        offered = "、".join(f"{g:.2f}元" for g in rule.grades)
        return [_refuse(rule, "grade_not_offered", f"请在以下缴费档次中选择：{offered}")]
    return []


def _period_refusals(rule: RuleSnapshot, periods: tuple[FeePeriod, ...], today: dt.date) -> list[Refusal]:
    year = rule.contribution_year
    if rule.calculation in YEARLY_CALCULATIONS:
        if periods and sorted(periods) != list(rule.year_periods()):
            return [_refuse(rule, "annual_only", f"{rule.insurance_type_name}按年度缴纳，所属期为{year}年1月至12月")]
        return []
    if not periods:
        return [_refuse(rule, "no_periods", "请选择缴费所属期")]
    refusals = [
        _refuse(rule, "period_duplicate", f"所属期{p.label()}重复", period=p)
        for p, n in sorted(Counter(periods).items())
        if n > 1
    ]
    refusals += [
        _refuse(rule, "period_outside_year", f"所属期{p.label()}不属于{year}年度", period=p) for p in periods if p.year != year
    ]
    if rule.restricts_to_current_month(today):
        refusals += _after_current_month(rule, periods, today)
    return refusals


def _after_current_month(rule: RuleSnapshot, periods: tuple[FeePeriod, ...], today: dt.date) -> list[Refusal]:
    """REQUIREMENTS §2.1 (Nanning 2021): until the year's base is published a
    person pays only up to the current month. A later period becomes payable
    when its month arrives or when the base is expected, whichever is first
    (an expected date already past tells nothing, so only the month counts)."""
    current = FeePeriod.of(today)
    expected = rule.base_expected_on if rule.base_expected_on and rule.base_expected_on > today else None
    later = f"；预计{expected.year}年{expected.month}月公布后可缴纳以后月份" if expected else ""
    refusals = []
    for period in sorted(set(periods)):
        if period.year == rule.contribution_year and period > current:
            changes_on = min(period.first_day, expected) if expected else period.first_day
            text = f"{rule.contribution_year}年度缴费基数公布前，只能缴纳至当月（{current.label()}），{period.label()}暂不能缴纳{later}"
            refusals.append(_refuse(rule, "period_after_current_month", text, period=period, changes_on=changes_on))
    return refusals


def _lines(
    rule: RuleSnapshot, periods: tuple[FeePeriod, ...], base: Decimal | None, grade: Decimal | None
) -> tuple[ContributionLine, ...]:
    if rule.calculation in YEARLY_CALCULATIONS:
        amount = quantize_yuan(grade if grade is not None else rule.grades[0])
        return (ContributionLine(FeePeriod(rule.contribution_year, 1), None, None, amount),)
    assert base is not None  # _base_refusals refused a missing base
    base = base.quantize(FEN)  # exact: _base_refusals refused anything finer than a fen
    monthly = quantize_yuan(base * rule.rate)
    return tuple(ContributionLine(p, base, rule.rate, monthly) for p in sorted(periods))
