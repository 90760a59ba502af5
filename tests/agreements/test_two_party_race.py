"""At most one deduction-enabled two-party agreement per payer under concurrency, on
PostgreSQL: eight concurrent signings for one payer leave exactly one agreement."""

from __future__ import annotations

import pytest
from django.db import connection

from shebao.agreements import agreement_services as services
from shebao.agreements.agreement_services import ONE_TWO_PARTY_MESSAGE, AgreementError
from shebao.agreements.models import TwoPartyAgreement
from shebao.archive.models import ArchiveRecord
from tests.agreements.fakes import FakeBank
from tests.agreements.helpers import ZHANG, own_card, signer
from tests.concurrency import run_together

CLIENTS = 8


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_signings_for_one_payer_give_exactly_one(demo_people, clock):
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL and concurrent writers; the database here is {connection.vendor}")
    _, actor, profile = signer(ZHANG, now=clock.now)
    bank = FakeBank()

    made, refused, errors = run_together(
        lambda n: services.two_party_create(actor=actor, profile=profile, person=None, to=own_card(), sign=True, now=clock.now,
                                            gateway=bank).pk,
        CLIENTS, expected=AgreementError)

    assert errors == []
    assert len(made) == 1
    assert [str(exc) for exc in refused] == [ONE_TWO_PARTY_MESSAGE] * (CLIENTS - 1)
    assert list(TwoPartyAgreement.objects.values_list("pk", "state")) == [(made[0], "active")]
    assert ArchiveRecord.objects.filter(business_type="agreement").count() == 1
    assert len(bank.checks) == 1
