"""``manage.py seed_reference``: the cities and insurance types, idempotent; the
embedded core's agencies and tax offices are seed_demo's."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from shebao.core.models import Agency, TaxOffice
from shebao.reference import reference_data
from shebao.reference.models import City, InsuranceType

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_reference", stdout=out)
    return out.getvalue()


def test_seed_reference_loads_cities_and_insurance_types_once():
    City.objects.filter(division_code="450100").update(name="旧名")
    assert _seed() == "参考数据：15 个地市，5 个险种\n"
    assert _seed() == "参考数据：15 个地市，5 个险种\n"
    assert sorted(City.objects.values_list("division_code", "name")) == sorted([reference_data.REGION, *reference_data.CITIES])
    assert list(City.objects.filter(is_region_level=True).values_list("division_code", flat=True)) == ["450000"]
    assert sorted(InsuranceType.objects.values_list("code", flat=True)) == sorted(t[0] for t in reference_data.INSURANCE_TYPES)
    assert (Agency.objects.count(), TaxOffice.objects.count()) == (0, 0)


def test_seed_demo_calls_it_and_adds_the_cores_offices(reference_data):
    assert City.objects.count() == 15
    assert Agency.objects.filter(city__division_code="450100").get().name == "南宁市社会保险事业局"
    assert TaxOffice.objects.filter(city__division_code="450100").count() == 3
