"""Quotes: may this person pay these periods at this base today, and how much
(REQUIREMENTS §2.1). Every screen and the submit service use this; the
decision itself is the pure ``shebao.rules.calculator.calculate_contribution``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from shebao.adapters.core.port import PayerProfile
from shebao.reference.reference_data import INSURANCE_TYPES
from shebao.rules.calculator import Decision, PayerFacts, Refusal, calculate_contribution, payable_periods
from shebao.rules.money import ZERO
from shebao.rules.periods import FeePeriod
from shebao.rules.selectors import rule_get, rules_open
from shebao.rules.snapshot import YEARLY_CALCULATIONS

PAID, DECLARED = "paid", "declared"
_ORDER = {row[0]: i for i, row in enumerate(INSURANCE_TYPES)}


def item_order(code: str) -> tuple[int, str]:
    """The one order of insurance items on every screen, bill and receipt: the
    reference data's (养老, then 医疗, then 大病医疗; flexible before resident),
    an unknown code after them by code."""
    return (_ORDER.get(code, len(_ORDER)), code)


def months_text(periods, *, with_year: bool = True) -> str:
    """Months as people read them: runs joined, e.g. "2026年1月至3月、2026年5月"
    (``with_year=False``: "1月至3月、5月")."""
    runs: list[list[FeePeriod]] = []
    for p in sorted(periods):
        if runs and runs[-1][-1].next() == p:
            runs[-1].append(p)
        else:
            runs.append([p])
    parts = []
    for run in runs:
        start, end = run[0], run[-1]
        head = f"{start.year}年{start.month}月" if with_year else f"{start.month}月"
        if end == start:
            parts.append(head)
        else:
            parts.append(f"{head}至{'' if end.year == start.year else f'{end.year}年'}{end.month}月")
    return "、".join(parts)


@dataclass(frozen=True)
class ItemQuote:
    insurance_type_code: str
    insurance_type: str
    contribution_year: int
    periods: tuple[FeePeriod, ...]
    decision: Decision
    rule: object  # RuleSnapshot


@dataclass(frozen=True)
class Quote:
    items: tuple[ItemQuote, ...]

    @property
    def allowed(self) -> bool:
        return bool(self.items) and all(i.decision.allowed for i in self.items)

    @property
    def total(self) -> Decimal:
        return sum((i.decision.total for i in self.items), Decimal("0.00"))


def payer_facts(profile: PayerProfile) -> PayerFacts:
    return PayerFacts(person_type=profile.person_type, city_code=profile.city_code, groups=profile.groups)


def open_choices(*, profile: PayerProfile, today: dt.date) -> dict[str, list]:
    """For each enrolled insurance type: the rules (years) collectable today."""
    return {code: rules_open(city_code=profile.city_code, insurance_type_code=code, today=today) for code in profile.enrolled_types}


def _taken_refusal(rule, code: str, periods, taken: Mapping[str, Mapping[str, str]]) -> Refusal | None:
    """A period already paid (or declared and not paid yet) cannot be declared again:
    say which months, before any SMS code is asked for."""
    mine = taken.get(code, {})
    hit = [p for p in periods if p.yyyymm in mine]
    if not hit:
        return None
    yearly = rule.calculation in YEARLY_CALCULATIONS
    paid = [p for p in hit if mine[p.yyyymm] == PAID]
    if paid:
        what = f"{rule.contribution_year}年度" if yearly else months_text(paid)
        return Refusal(paid[0], rule.ref, "period_paid", f"{what}已缴费，请勿重复缴纳。请改选未缴费的月份。", None)
    what = f"{rule.contribution_year}年度" if yearly else months_text(hit)
    return Refusal(hit[0], rule.ref, "period_declared",
                   f"{what}已申报、尚未缴费，请在“缴费记录”中继续缴费，或取消该缴费单后重新申报。", None)


def quote(*, profile: PayerProfile, insurance_type_codes: list[str], names: dict[str, str], contribution_year: int,
          period_from: FeePeriod | None, period_to: FeePeriod | None, base: Decimal | None, grade: Decimal | None,
          today: dt.date, taken: Mapping[str, Mapping[str, str]] | None = None) -> Quote:
    """Decide each chosen insurance type with the rule valid today, items in
    ``item_order``. With ``taken`` (the core's ``periods_taken`` of the year) a
    period already paid or declared is refused here, naming the months."""
    items = []
    for code in sorted(insurance_type_codes, key=item_order):
        rule = rule_get(city_code=profile.city_code, contribution_year=contribution_year, insurance_type_code=code, on=today)
        if rule is None:
            continue
        if rule.calculation == "base_rate":
            periods = tuple(FeePeriod.range(period_from, period_to)) if period_from and period_to else ()
        else:
            periods = tuple(FeePeriod.range(FeePeriod(contribution_year, 1), FeePeriod(contribution_year, 12)))
        decision = calculate_contribution(
            rule=rule, payer=payer_facts(profile), periods=periods, base=base if rule.calculation == "base_rate" else None,
            grade=grade if rule.calculation == "fixed_grade" else None, today=today,
        )
        refusal = _taken_refusal(rule, code, decision.periods, taken or {})
        if refusal is not None:
            decision = Decision(False, ZERO, (), (*decision.refusals, refusal), decision.rule_ref, decision.periods)
        items.append(ItemQuote(code, names.get(code, code), contribution_year, periods, decision, rule))
    return Quote(tuple(items))


@dataclass(frozen=True)
class DeclareOptions:
    """What the declare screen may offer this person today (from the open rules)."""

    type_codes: tuple[str, ...]  # enrolled insurance types with a year open today
    years: tuple[int, ...]  # contribution years open today
    year: int  # the year shown: the one asked for if open, else the latest open
    rules: tuple  # RuleSnapshot of that year, one per insurance type
    grades: tuple[Decimal, ...]  # yearly amounts offered (fixed_grade rules)
    base_grades: tuple[Decimal, ...]  # suggested bases (base_rate rules)

    @property
    def has_base(self) -> bool:
        return any(r.calculation == "base_rate" for r in self.rules)


def declare_options(*, profile: PayerProfile, today: dt.date, asked_year: str = "") -> DeclareOptions:
    choices = open_choices(profile=profile, today=today)
    years = tuple(sorted({r.contribution_year for rules in choices.values() for r in rules}))
    if asked_year.isdigit() and int(asked_year) in years:
        year = int(asked_year)
    else:
        year = years[-1] if years else today.year
    rules = tuple(r for rs in choices.values() for r in rs if r.contribution_year == year)
    return DeclareOptions(
        type_codes=tuple(sorted((code for code, rules_ in choices.items() if rules_), key=item_order)), years=years, year=year,
        rules=tuple(sorted(rules, key=lambda r: item_order(r.insurance_type_code))),
        grades=tuple(sorted({g for r in rules if r.calculation == "fixed_grade" for g in r.grades})),
        base_grades=tuple(sorted({g for r in rules if r.calculation == "base_rate" for g in r.grades})),
    )


@dataclass(frozen=True)
class MonthsOfItem:
    """One insurance type's months of the year shown on the declare screen."""

    insurance_type_code: str
    insurance_type: str
    yearly: bool  # paid for the whole year at once
    paid: tuple[FeePeriod, ...]
    declared: tuple[FeePeriod, ...]  # declared, bill not paid yet
    open: tuple[FeePeriod, ...]  # may be declared today

    @property
    def paid_text(self) -> str:
        return months_text(self.paid, with_year=False)

    @property
    def declared_text(self) -> str:
        return months_text(self.declared, with_year=False)

    @property
    def open_text(self) -> str:
        return months_text(self.open, with_year=False)


def months_overview(*, opts: DeclareOptions, names: Mapping[str, str], taken: Mapping[str, Mapping[str, str]],
                    today: dt.date) -> tuple[MonthsOfItem, ...]:
    """Per insurance type of the shown year: which months are paid, declared, open."""
    out = []
    for rule in opts.rules:
        mine = taken.get(rule.insurance_type_code, {})
        months = rule.year_periods()
        payable = set(payable_periods(rule, today))
        out.append(MonthsOfItem(
            rule.insurance_type_code, names.get(rule.insurance_type_code, rule.insurance_type_code),
            rule.calculation in YEARLY_CALCULATIONS,
            tuple(p for p in months if mine.get(p.yyyymm) == PAID), tuple(p for p in months if mine.get(p.yyyymm) == DECLARED),
            tuple(p for p in months if p in payable and p.yyyymm not in mine),
        ))
    return tuple(out)


def default_periods(overview: tuple[MonthsOfItem, ...], *, year: int, today: dt.date) -> tuple[FeePeriod, FeePeriod]:
    """The 所属期 the screen starts with: from the first month every monthly item
    may still be paid (else the first any may), through the end of that run of
    open months but not past the current month: a person behind on payments is
    offered the months owed up to now, one ahead of time just that month, and
    never a paid one.
    Nothing open: the current month of this year, else the whole year."""
    monthly = [m for m in overview if not m.yearly]
    common = set.intersection(*(set(m.open) for m in monthly)) if monthly else set()
    pool = common or {p for m in monthly for p in m.open}
    if not pool:
        if year == today.year:
            return FeePeriod.of(today), FeePeriod.of(today)
        return FeePeriod(year, 1), FeePeriod(year, 12)
    start = end = min(pool)
    current = FeePeriod.of(today)
    while end < current and end.next() in pool and end.next().year == year:
        end = end.next()
    return start, end
