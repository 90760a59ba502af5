"""The plain values the pure calculator works on (no ORM, no clock, no float).

``RuleSnapshot`` is a ContributionRule row frozen into values
(``selectors.rule_snapshot``); ``PayerFacts`` is what the rules need to know
about a person; ``Decision`` / ``Refusal`` / ``ContributionLine`` are the answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from shebao.rules.periods import FeePeriod

# The values of models.Calculation / models.DeclarationMode / core PersonType,
# repeated as plain strings so this module imports without Django
# (tests/rules/test_snapshot.py keeps them equal).
BASE_RATE = "base_rate"
FIXED_GRADE = "fixed_grade"
FIXED = "fixed"
YEARLY_CALCULATIONS = (FIXED_GRADE, FIXED)

SELF = "self"
ASSESSED = "assessed"
MIXED = "mixed"

PERSON_TYPE_LABELS = {"flexible": "灵活就业人员", "resident": "城乡居民"}


@dataclass(frozen=True, slots=True)
class RuleSnapshot:
    """All values of one ContributionRule version. ``ref`` ("contribution_rule:31")
    is what a declaration records and what every refusal names."""

    ref: str
    city_code: str
    city_name: str
    contribution_year: int
    insurance_type_code: str
    insurance_type_name: str
    person_type: str
    calculation: str
    declaration_mode: str
    assessed_groups: tuple[str, ...]
    min_base: Decimal | None
    max_base: Decimal | None
    grades: tuple[Decimal, ...]
    rate: Decimal
    collection_opens_on: dt.date
    collection_closes_on: dt.date | None
    base_published_on: dt.date | None
    base_expected_on: dt.date | None
    pay_only_up_to_current_month_until_published: bool
    policy_ref: str
    source_note: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    rule_id: int | None = None

    def is_open(self, today: dt.date) -> bool:
        """The contribution year can be paid today: opens_on ≤ today ≤ closes_on."""
        return self.collection_opens_on <= today and (self.collection_closes_on is None or today <= self.collection_closes_on)

    def base_published(self, today: dt.date) -> bool:
        """The year's base has been published by ``today`` (a future date = scheduled)."""
        return self.base_published_on is not None and self.base_published_on <= today

    def restricts_to_current_month(self, today: dt.date) -> bool:
        """REQUIREMENTS §2.1: until the base is published, pay only up to the current month."""
        return self.pay_only_up_to_current_month_until_published and not self.base_published(today)

    def year_periods(self) -> tuple[FeePeriod, ...]:
        return FeePeriod.range(FeePeriod(self.contribution_year, 1), FeePeriod(self.contribution_year, 12))


@dataclass(frozen=True, slots=True)
class PayerFacts:
    """What the rules ask about a person: person type ("flexible"/"resident"),
    insured city's division code and the groups they belong to
    (e.g. ("达到法定退休年龄人员",))."""

    person_type: str
    city_code: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why something cannot be paid: the rule that says no (``rule_ref``), a
    stable ``reason_code``, the rule's own explanation in Chinese citing its
    policy reference, and the day it changes (None = not by the passing of time)."""

    period: FeePeriod | None
    rule_ref: str
    reason_code: str
    message: str
    changes_on: dt.date | None


class ContributionLine(NamedTuple):
    """One receipt line. Monthly kinds: one line per period with its base and
    rate. Yearly kinds (fixed_grade/fixed): one line for the year with
    ``period`` = January of the year and ``base``/``rate`` None."""

    period: FeePeriod
    base: Decimal | None
    rate: Decimal | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer. ``allowed`` → ``lines`` and ``total`` (their exact sum);
    refused → no lines, total 0.00, and every ``refusals`` that applies.
    ``periods`` are the months paid for (the whole year for yearly kinds)."""

    allowed: bool
    total: Decimal
    lines: tuple[ContributionLine, ...]
    refusals: tuple[Refusal, ...]
    rule_ref: str
    periods: tuple[FeePeriod, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.reason_code for r in self.refusals)
