"""Quotes: may this person pay these periods at this base today, and how much
(REQUIREMENTS §2.1). Every screen and the submit service use this; the
decision itself is the pure ``shebao.rules.calculator.calculate_contribution``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from shebao.adapters.core.port import PayerProfile
from shebao.rules.calculator import Decision, PayerFacts, calculate_contribution
from shebao.rules.periods import FeePeriod
from shebao.rules.selectors import rule_get, rules_open


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


def quote(*, profile: PayerProfile, insurance_type_codes: list[str], names: dict[str, str], contribution_year: int,
          period_from: FeePeriod | None, period_to: FeePeriod | None, base: Decimal | None, grade: Decimal | None,
          today: dt.date) -> Quote:
    """Decide each chosen insurance type with the rule valid today."""
    items = []
    for code in insurance_type_codes:
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
        type_codes=tuple(code for code, rules_ in choices.items() if rules_), years=years, year=year, rules=rules,
        grades=tuple(sorted({g for r in rules if r.calculation == "fixed_grade" for g in r.grades})),
        base_grades=tuple(sorted({g for r in rules if r.calculation == "base_rate" for g in r.grades})),
    )
