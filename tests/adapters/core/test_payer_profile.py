"""The embedded core's one-statement payer profile by the three elements agrees with
the profile by registration number, for every demo payer."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shebao.adapters.core import get_core
from shebao.core.models import Enrolment, EnrolmentState, Payer

pytestmark = pytest.mark.django_db


def test_profile_by_identity_matches_profile_by_registration_no(demo_people):
    core = get_core()
    payers = list(Payer.objects.all())
    assert len(payers) >= 5
    for payer in payers:
        with CaptureQueriesContext(connection) as queries:
            found = core.payer_profile_by_identity(name=payer.name, id_type=payer.id_type, id_number=payer.id_number)
        assert len(queries.captured_queries) == 1
        expected = core.payer_profile(registration_no=payer.registration_no)
        assert found is not None
        assert sorted(found.enrolled_types) == sorted(expected.enrolled_types)
        assert found == replace(expected, enrolled_types=found.enrolled_types)


def test_wrong_name_or_unknown_identity_finds_nothing(demo_people):
    core = get_core()
    payer = Payer.objects.first()
    assert core.payer_profile_by_identity(name=payer.name + "甲", id_type=payer.id_type, id_number=payer.id_number) is None
    assert core.payer_profile_by_identity(name=payer.name, id_type=payer.id_type, id_number="110101199003074514") is None


def test_only_active_enrolments_and_none_at_all(demo_people):
    core = get_core()
    payer = Payer.objects.filter(enrolments__isnull=False).distinct().first()
    enrolments = list(Enrolment.objects.filter(payer=payer).order_by("pk"))
    assert enrolments
    Enrolment.objects.filter(pk=enrolments[0].pk).update(state=EnrolmentState.SUSPENDED)
    found = core.payer_profile_by_identity(name=payer.name, id_type=payer.id_type, id_number=payer.id_number)
    assert enrolments[0].insurance_type.code not in found.enrolled_types
    assert len(found.enrolled_types) == len(enrolments) - 1
    Enrolment.objects.filter(payer=payer).update(state=EnrolmentState.ENDED)
    none = core.payer_profile_by_identity(name=payer.name, id_type=payer.id_type, id_number=payer.id_number)
    assert none is not None and none.enrolled_types == () and none.registration_no == payer.registration_no
