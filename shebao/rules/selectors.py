"""Reads of contribution rules. A caller turns a row into the calculator's
values with ``rule_snapshot`` and decides with
``calculator.calculate_contribution``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q, QuerySet

from shebao.rules.models import ContributionRule
from shebao.rules.snapshot import RuleSnapshot


def rule_ref(pk: int) -> str:
    """The reference a declaration records and a refusal names."""
    return f"contribution_rule:{pk}"


def _valid_on(on: dt.date) -> Q:
    """Half-open validity: valid_from ≤ on < valid_to (valid_to null = open)."""
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gt=on))


def _base_queryset() -> QuerySet[ContributionRule]:
    return ContributionRule.objects.select_related("city", "insurance_type")


def rule_snapshot(row: ContributionRule) -> RuleSnapshot:
    """Freeze a row (with its city and insurance type) into the calculator's values."""
    return RuleSnapshot(
        ref=rule_ref(row.pk),
        rule_id=row.pk,
        city_code=row.city.division_code,
        city_name=row.city.name,
        contribution_year=row.contribution_year,
        insurance_type_code=row.insurance_type.code,
        insurance_type_name=row.insurance_type.name,
        person_type=row.insurance_type.person_type,
        calculation=row.calculation,
        declaration_mode=row.declaration_mode,
        assessed_groups=tuple(row.assessed_groups or ()),
        min_base=row.min_base,
        max_base=row.max_base,
        grades=tuple(Decimal(str(g)) for g in row.grades or ()),
        rate=row.rate,
        collection_opens_on=row.collection_opens_on,
        collection_closes_on=row.collection_closes_on,
        base_published_on=row.base_published_on,
        base_expected_on=row.base_expected_on,
        pay_only_up_to_current_month_until_published=row.pay_only_up_to_current_month_until_published,
        policy_ref=row.policy_ref,
        source_note=row.source_note,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def rule_get(*, city_code: str, contribution_year: int, insurance_type_code: str, on: dt.date) -> RuleSnapshot | None:
    """The version of the rule for city × year × insurance type valid on ``on``
    (at most one: windows do not overlap), or None if there is none."""
    row = (
        _base_queryset()
        .filter(
            _valid_on(on),
            city__division_code=city_code,
            contribution_year=contribution_year,
            insurance_type__code=insurance_type_code,
        )
        .first()
    )
    return rule_snapshot(row) if row is not None else None


def rules_open(*, city_code: str, insurance_type_code: str, today: dt.date) -> list[RuleSnapshot]:
    """The rules in force today whose contribution year can be collected today,
    by year ascending (what a declaration screen offers)."""
    rows = (
        _base_queryset()
        .filter(_valid_on(today), city__division_code=city_code, insurance_type__code=insurance_type_code)
        .filter(Q(collection_opens_on__lte=today) & (Q(collection_closes_on__isnull=True) | Q(collection_closes_on__gte=today)))
        .order_by("contribution_year")
    )
    return [rule_snapshot(row) for row in rows]


def rule_versions(*, city_code: str, contribution_year: int, insurance_type_code: str) -> list[ContributionRule]:
    """Every version of one rule, oldest first (its history)."""
    return list(
        _base_queryset()
        .filter(city__division_code=city_code, contribution_year=contribution_year, insurance_type__code=insurance_type_code)
        .order_by("valid_from")
    )
