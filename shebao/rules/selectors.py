"""Reads of contribution rules. A caller turns a row into the calculator's
values with ``rule_snapshot`` and decides with
``calculator.calculate_contribution``.

``rule_get`` and ``rules_open`` answer from a per-process copy of every rule's
snapshot (``shebao.common.refcache``: reloaded after ``REFERENCE_CACHE_SECONDS``,
cleared at once when this process saves a rule, city or insurance type) with the same
date logic as the database filters they replace; ``rule_versions`` (the history, for
staff) always reads the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q, QuerySet

from shebao.common.refcache import ProcessCache
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


def _load_all() -> dict[tuple[str, str], tuple[RuleSnapshot, ...]]:
    """Every rule version, keyed by (city code, insurance type code), by year then valid_from."""
    index: dict[tuple[str, str], list[RuleSnapshot]] = {}
    for row in _base_queryset().order_by("contribution_year", "valid_from", "pk"):
        snap = rule_snapshot(row)
        index.setdefault((snap.city_code, snap.insurance_type_code), []).append(snap)
    return {key: tuple(snaps) for key, snaps in index.items()}


_all_rules: ProcessCache[dict[tuple[str, str], tuple[RuleSnapshot, ...]]] = ProcessCache("rules", _load_all)


def watch_rule_tables() -> None:
    """Connect the cache to the tables its snapshots are built from (RulesConfig.ready)."""
    from shebao.reference.models import City, InsuranceType

    _all_rules.watch(ContributionRule, City, InsuranceType)


def _in_force(snap: RuleSnapshot, on: dt.date) -> bool:
    """Python twin of ``_valid_on``: valid_from ≤ on < valid_to (valid_to None = open)."""
    return snap.valid_from <= on and (snap.valid_to is None or on < snap.valid_to)


def _collectable(snap: RuleSnapshot, today: dt.date) -> bool:
    return snap.collection_opens_on <= today and (snap.collection_closes_on is None or today <= snap.collection_closes_on)


def rule_get(*, city_code: str, contribution_year: int, insurance_type_code: str, on: dt.date) -> RuleSnapshot | None:
    """The version of the rule for city × year × insurance type valid on ``on``
    (at most one: windows do not overlap), or None if there is none."""
    for snap in _all_rules.get().get((city_code, insurance_type_code), ()):
        if snap.contribution_year == contribution_year and _in_force(snap, on):
            return snap
    return None


def rules_open(*, city_code: str, insurance_type_code: str, today: dt.date) -> list[RuleSnapshot]:
    """The rules in force today whose contribution year can be collected today,
    by year ascending (what a declaration screen offers)."""
    return [s for s in _all_rules.get().get((city_code, insurance_type_code), ()) if _in_force(s, today) and _collectable(s, today)]


def rule_versions(*, city_code: str, contribution_year: int, insurance_type_code: str) -> list[ContributionRule]:
    """Every version of one rule, oldest first (its history)."""
    return list(
        _base_queryset()
        .filter(city__division_code=city_code, contribution_year=contribution_year, insurance_type__code=insurance_type_code)
        .order_by("valid_from")
    )
