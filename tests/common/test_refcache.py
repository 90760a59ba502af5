"""Per-process copies of reference tables: reloaded after the TTL, cleared when this
process saves a watched row, never stale within the saving process."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shebao.common import refcache
from shebao.reference.models import City, InsuranceType
from shebao.reference.selectors import insurance_type_id, insurance_type_names
from shebao.rules.models import ContributionRule
from shebao.rules.selectors import rule_get, rules_open


def test_copy_is_reused_until_ttl_then_reloaded(settings, monkeypatch):
    settings.REFERENCE_CACHE_SECONDS = 30
    loads = []
    cache = refcache.ProcessCache("t", lambda: loads.append(1) or len(loads))
    now = [1000.0]
    monkeypatch.setattr(refcache.time, "monotonic", lambda: now[0])
    assert cache.get() == 1 and cache.get() == 1
    now[0] += 29.9
    assert cache.get() == 1
    now[0] += 0.2
    assert cache.get() == 2
    cache.clear()
    assert cache.get() == 3


def test_zero_seconds_turns_caching_off(settings):
    settings.REFERENCE_CACHE_SECONDS = 0
    loads = []
    cache = refcache.ProcessCache("t0", lambda: loads.append(1) or len(loads))
    assert [cache.get(), cache.get(), cache.get()] == [1, 2, 3]


@pytest.mark.django_db
def test_saving_an_insurance_type_is_seen_at_once(settings):
    settings.REFERENCE_CACHE_SECONDS = 3600
    itype = InsuranceType.objects.order_by("pk").first()
    assert insurance_type_names()[itype.code] == itype.name
    itype.name = "改名后的险种"
    itype.save()
    assert insurance_type_names()[itype.code] == "改名后的险种"
    assert insurance_type_id(itype.code) == itype.pk
    assert insurance_type_id("NO-SUCH") is None


@pytest.mark.django_db
def test_rule_changes_reach_the_cached_lookups(settings):
    settings.REFERENCE_CACHE_SECONDS = 3600
    rule = ContributionRule.objects.select_related("city", "insurance_type").order_by("pk").first()
    on = rule.valid_from
    found = rule_get(city_code=rule.city.division_code, contribution_year=rule.contribution_year,
                     insurance_type_code=rule.insurance_type.code, on=on)
    assert found is not None and found.rule_id == rule.pk
    ContributionRule.objects.filter(pk=rule.pk).update(rate=Decimal("0.1234"))  # no signal: the copy is stale until cleared
    stale = rule_get(city_code=rule.city.division_code, contribution_year=rule.contribution_year,
                     insurance_type_code=rule.insurance_type.code, on=on)
    assert stale.rate == rule.rate
    rule.refresh_from_db()
    rule.save()  # a save through the ORM (as the back office does) clears it
    fresh = rule_get(city_code=rule.city.division_code, contribution_year=rule.contribution_year,
                     insurance_type_code=rule.insurance_type.code, on=on)
    assert fresh.rate == Decimal("0.1234")


@pytest.mark.django_db
def test_city_rename_reaches_rule_snapshots(settings):
    settings.REFERENCE_CACHE_SECONDS = 3600
    rule = ContributionRule.objects.select_related("city", "insurance_type").order_by("pk").first()
    rule_get(city_code=rule.city.division_code, contribution_year=rule.contribution_year,
             insurance_type_code=rule.insurance_type.code, on=rule.valid_from)
    city = City.objects.get(pk=rule.city_id)
    city.name = "测试市"
    city.save()
    snap = rule_get(city_code=rule.city.division_code, contribution_year=rule.contribution_year,
                    insurance_type_code=rule.insurance_type.code, on=rule.valid_from)
    assert snap.city_name == "测试市"


@pytest.mark.django_db
def test_cached_lookups_agree_with_the_database_on_every_day(settings):
    """The Python date logic is the twin of the database filters: compare them on every
    rule's edges (window start/end, collection open/close) for every rule."""
    from django.db.models import Q

    from shebao.rules.selectors import _base_queryset, _valid_on

    settings.REFERENCE_CACHE_SECONDS = 3600
    rows = list(_base_queryset())
    assert rows
    days = set()
    for r in rows:
        for d in (r.valid_from, r.valid_to, r.collection_opens_on, r.collection_closes_on):
            if d:
                days.update({d - dt.timedelta(days=1), d, d + dt.timedelta(days=1)})
    keys = {(r.city.division_code, r.insurance_type.code) for r in rows}
    checked = 0
    for day in sorted(days):
        for city_code, type_code in keys:
            db_open = [
                r.pk for r in _base_queryset()
                .filter(_valid_on(day), city__division_code=city_code, insurance_type__code=type_code)
                .filter(Q(collection_opens_on__lte=day) & (Q(collection_closes_on__isnull=True) | Q(collection_closes_on__gte=day)))
                .order_by("contribution_year")
            ]
            assert [s.rule_id for s in rules_open(city_code=city_code, insurance_type_code=type_code, today=day)] == db_open
            for year in {r.contribution_year for r in rows}:
                db_row = _base_queryset().filter(_valid_on(day), city__division_code=city_code, contribution_year=year,
                                                 insurance_type__code=type_code).first()
                snap = rule_get(city_code=city_code, contribution_year=year, insurance_type_code=type_code, on=day)
                assert (snap.rule_id if snap else None) == (db_row.pk if db_row else None)
                checked += 1
    assert checked > 50
