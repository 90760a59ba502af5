"""Rules as dated rows: the shipped data, versions in half-open windows that
never overlap (service on every database; exclusion constraint on
PostgreSQL), the version valid on a date, and the audit of each write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from shebao.audit.models import AuditEvent
from shebao.reference.models import City, InsuranceType
from shebao.rules.models import ContributionRule
from shebao.rules.selectors import rule_get, rule_snapshot, rule_versions
from shebao.rules.services import rule_new_version, rule_save
from tests import actors
from tests.rules.factories import CUSTOMER_POLICY_REF, FROZEN_NOW, rule_make, staff_create

pytestmark = pytest.mark.django_db


# -- the shipped customer data (migration 0002) -------------------------------
def test_migration_loaded_30_csv_rows_and_the_nanning_publication():
    shipped = ContributionRule.objects.filter(policy_ref=CUSTOMER_POLICY_REF)

    assert shipped.count() == 31
    assert shipped.filter(supersedes__isnull=True).count() == 30
    assert sorted(set(shipped.values_list("contribution_year", flat=True))) == [2020, 2021]
    assert shipped.values("city").distinct().count() == 15
    assert City.objects.get(division_code="450000").is_region_level
    assert InsuranceType.objects.get(code="10210-FLEX").default_rate == D("0.2000")


def test_nanning_2021_has_two_versions_split_at_publication():
    first, published = rule_versions(city_code="450100", contribution_year=2021, insurance_type_code="10210-FLEX")

    assert (first.valid_from, first.valid_to, first.base_published_on, first.base_expected_on) == (
        dt.date(2021, 1, 1), dt.date(2021, 8, 1), None, dt.date(2021, 8, 1),
    )  # fmt: skip
    assert (published.valid_from, published.valid_to, published.base_published_on, published.supersedes) == (
        dt.date(2021, 8, 1), None, dt.date(2021, 8, 1), first,
    )  # fmt: skip
    assert (first.declaration_mode, first.assessed_groups) == ("mixed", ["2021年1月退休人员"])
    assert "原注：From February 2021" in first.source_note


@pytest.mark.parametrize(
    ("city", "year", "mode", "groups", "min_base", "max_base"),
    [
        ("450100", 2020, "self", [], "2955.10", "14775.51"),
        ("450800", 2020, "assessed", [], "3679.60", "15769.71"),
        ("450800", 2021, "self", [], "3942.40", "15769.59"),
        ("450400", 2021, "mixed", ["达到法定退休年龄人员", "失地农民"], "3679.60", "15769.71"),
        ("451000", 2021, "assessed", ["达到法定退休年龄人员"], "3679.60", "15769.71"),
        ("450000", 2021, "self", [], "3679.60", "15769.71"),
    ])
def test_shipped_values(city, year, mode, groups, min_base, max_base):
    rule = rule_get(city_code=city, contribution_year=year, insurance_type_code="10210-FLEX", on=dt.date(year, 6, 1))

    assert (rule.declaration_mode, list(rule.assessed_groups), rule.min_base, rule.max_base, rule.rate) == (
        mode, groups, D(min_base), D(max_base), D("0.2000"),
    )  # fmt: skip
    assert rule.grades[0] == D(min_base) and rule.grades[-1] == D(max_base)


def test_seed_demo_after_the_migration_keeps_the_rules(reference_data):
    assert City.objects.get(division_code="450000").name == "广西壮族自治区本级"
    assert ContributionRule.objects.filter(policy_ref=CUSTOMER_POLICY_REF).count() == 31


# -- rule_get: the version valid on a date --------------------------------------
@pytest.mark.parametrize(
    ("on", "published"),
    [
        pytest.param(dt.date(2021, 7, 31), None, id="valid_from-1"),
        pytest.param(dt.date(2021, 8, 1), dt.date(2021, 8, 1), id="valid_from"),
        pytest.param(dt.date(2021, 8, 2), dt.date(2021, 8, 1), id="valid_from+1"),
    ])
def test_rule_get_picks_the_version_valid_on_the_date(on, published):
    rule = rule_get(city_code="450100", contribution_year=2021, insurance_type_code="10210-FLEX", on=on)

    assert rule.base_published_on == published


def test_rule_get_before_any_version_is_none():
    assert (
        rule_get(city_code="450100", contribution_year=2021, insurance_type_code="10210-FLEX", on=dt.date(2020, 12, 31)) is None
    )


# -- writes: rule_save / rule_new_version -------------------------------------
def test_rule_save_adds_a_rule_and_audits_it():
    staff = staff_create()

    rule = rule_save(rule=rule_make(), actor=actors.staff(staff), now=FROZEN_NOW)

    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.subject_type, event.subject_ref) == (
        "rules.change",
        staff,
        "contribution_rule",
        str(rule.pk),
    )
    assert event.changes["min_base"] == {"old": None, "new": "4000.00"}
    assert rule.grades == ["4000.00", "20000.00"] and rule.created_at == FROZEN_NOW


def test_overlapping_window_is_refused_and_nothing_changes():
    staff = staff_create()
    rule_save(rule=rule_make(valid_from=dt.date(2030, 1, 1), valid_to=dt.date(2030, 7, 1)), actor=actors.staff(staff), now=FROZEN_NOW)
    before = (ContributionRule.objects.count(), AuditEvent.objects.count())

    with pytest.raises(ValidationError) as refused:
        rule_save(rule=rule_make(valid_from=dt.date(2030, 6, 30)), actor=actors.staff(staff), now=FROZEN_NOW)

    assert "与已有规则的有效期重叠" in str(refused.value)
    assert (ContributionRule.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "overlaps"),
    [
        pytest.param(dt.date(2030, 6, 30), None, True, id="starts-before-the-end"),
        pytest.param(dt.date(2030, 7, 1), None, False, id="starts-at-the-end"),
        pytest.param(dt.date(2029, 1, 1), dt.date(2030, 1, 2), True, id="ends-after-the-start"),
        pytest.param(dt.date(2029, 1, 1), dt.date(2030, 1, 1), False, id="ends-at-the-start"),
    ])
def test_windows_are_half_open(valid_from, valid_to, overlaps):
    staff = staff_create()
    rule_save(rule=rule_make(valid_from=dt.date(2030, 1, 1), valid_to=dt.date(2030, 7, 1)), actor=actors.staff(staff), now=FROZEN_NOW)

    if overlaps:
        with pytest.raises(ValidationError):
            rule_save(rule=rule_make(valid_from=valid_from, valid_to=valid_to), actor=actors.staff(staff), now=FROZEN_NOW)
    else:
        rule_save(rule=rule_make(valid_from=valid_from, valid_to=valid_to), actor=actors.staff(staff), now=FROZEN_NOW)
        assert ContributionRule.objects.filter(contribution_year=2030).count() == 2


def test_a_saved_rule_is_never_rewritten():
    rule = rule_save(rule=rule_make(), actor=actors.staff(staff_create()), now=FROZEN_NOW)
    rule.min_base = D("1.00")

    with pytest.raises(ValidationError, match="复制为新版本"):
        rule_save(rule=rule, actor=actors.system(), now=FROZEN_NOW)
    assert ContributionRule.objects.get(pk=rule.pk).min_base == D("4000.00")


def test_new_version_closes_the_old_window_and_audits_both():
    staff = staff_create()
    first = rule_save(rule=rule_make(), actor=actors.staff(staff), now=FROZEN_NOW)

    second = rule_new_version(
        previous=first,
        rule=rule_make(valid_from=dt.date(2030, 8, 1), min_base=D("4500.00"), grades=["4500"]),
        actor=actors.staff(staff),
        now=FROZEN_NOW,
    )

    first.refresh_from_db()
    assert (first.valid_to, second.supersedes, second.valid_to) == (dt.date(2030, 8, 1), first, None)
    event = AuditEvent.objects.order_by("id").last()
    assert event.subject_ref == str(second.pk)
    assert event.changes["min_base"] == {"old": "4000.00", "new": "4500.00"}
    assert event.changes["previous.valid_to"] == {"old": None, "new": "2030-08-01"}
    on = {
        d: rule_get(city_code="450300", contribution_year=2030, insurance_type_code="10210-FLEX", on=d).min_base
        for d in (dt.date(2030, 7, 31), dt.date(2030, 8, 1))
    }
    assert on == {dt.date(2030, 7, 31): D("4000.00"), dt.date(2030, 8, 1): D("4500.00")}


def test_new_version_must_start_after_the_old_one_and_keep_its_key():
    first = rule_save(rule=rule_make(), actor=actors.system(), now=FROZEN_NOW)

    with pytest.raises(ValidationError, match="须晚于原版本"):
        rule_new_version(previous=first, rule=rule_make(valid_from=dt.date(2030, 1, 1)), actor=actors.system(), now=FROZEN_NOW)
    with pytest.raises(ValidationError, match="地市、缴费年度、险种相同"):
        rule_new_version(previous=first, rule=rule_make(year=2031, valid_from=dt.date(2030, 9, 1)), actor=actors.system(), now=FROZEN_NOW)
    first.refresh_from_db()
    assert first.valid_to is None and ContributionRule.objects.filter(contribution_year__gte=2030).count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"min_base": D("5000"), "max_base": D("4000")}, "max_base", "最高缴费基数不得低于最低缴费基数"),
        ({"grades": ["3999.99"]}, "grades", "可选基数须在"),
        ({"declaration_mode": "mixed", "assessed_groups": []}, "assessed_groups", "须列出核定人群"),
        ({"calculation": "fixed", "min_base": None, "max_base": None, "grades": ["400", "420"]}, "grades", "只设置一个金额"),
        ({"grades": ["abc"]}, "grades", "缴费档次应为正数金额列表"),
    ])
def test_inconsistent_rules_are_refused_with_chinese_messages(overrides, field, message):
    with pytest.raises(ValidationError) as refused:
        rule_save(rule=rule_make(**overrides), actor=actors.system(), now=FROZEN_NOW)

    assert any(message in m for m in refused.value.message_dict[field])
    assert not ContributionRule.objects.filter(contribution_year=2030).exists()


def test_snapshot_carries_every_value():
    row = rule_save(rule=rule_make(declaration_mode="mixed", assessed_groups=["失地农民"]), actor=actors.system(), now=FROZEN_NOW)

    snap = rule_snapshot(row)

    assert (snap.ref, snap.rule_id, snap.city_code, snap.city_name, snap.person_type) == (
        f"contribution_rule:{row.pk}",
        row.pk,
        "450300",
        "桂林市",
        "flexible",
    )
    assert (snap.assessed_groups, snap.grades, snap.min_base, snap.valid_from) == (
        ("失地农民",),
        (D("4000.00"), D("20000.00")),
        D("4000.00"),
        dt.date(2030, 1, 1),
    )


# -- PostgreSQL: the database itself refuses an overlap -----------------------
@pytest.mark.postgres_only
def test_exclusion_constraint_refuses_a_raw_overlapping_insert():
    if connection.vendor != "postgresql":
        pytest.skip(f"the exclusion constraint exists only on PostgreSQL; the database here is {connection.vendor}")
    values = {f.name: getattr(rule_make(), f.name) for f in ContributionRule._meta.concrete_fields if f.name != "id"}
    ContributionRule.objects.create(**(values | {"created_at": FROZEN_NOW}))

    with pytest.raises(IntegrityError, match="rule_windows_no_overlap"), transaction.atomic():
        ContributionRule.objects.create(**(values | {"created_at": FROZEN_NOW, "valid_from": dt.date(2030, 12, 31)}))
    ContributionRule.objects.create(
        **(values | {"created_at": FROZEN_NOW, "contribution_year": 2031, "valid_from": dt.date(2030, 12, 31)})
    )
    assert ContributionRule.objects.filter(contribution_year__gte=2030).count() == 2


@pytest.mark.postgres_only
def test_a_racing_overlap_caught_by_the_database_is_the_same_validation_error(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip(f"the exclusion constraint exists only on PostgreSQL; the database here is {connection.vendor}")
    from shebao.rules import services

    rule_save(rule=rule_make(), actor=actors.system(), now=FROZEN_NOW)
    # As if a concurrent transaction inserted after our check: the check sees nothing.
    monkeypatch.setattr(services, "_overlapping", lambda rule, replacing: ContributionRule.objects.none())

    with pytest.raises(ValidationError, match="与已有规则的有效期重叠"):
        rule_save(rule=rule_make(valid_from=dt.date(2030, 6, 1)), actor=actors.system(), now=FROZEN_NOW)
    assert ContributionRule.objects.filter(contribution_year=2030).count() == 1
