"""One ticket, eight copies at once (PostgreSQL): the nonce's unique row lets exactly one in."""

from __future__ import annotations

import pytest
from django.db import connection

from shebao.sso.errors import SsoRefused
from shebao.sso.models import PartnerNonce, SsoLogin
from shebao.sso.services import sso_ticket_arrive
from tests import actors
from tests.concurrency import run_together
from tests.sso.factories import partner_create
from tests.sso.people import person_claims

CLIENTS = 8


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_copies_of_one_ticket_sign_in_once(demo_people, clock):
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL and concurrent writers; the database here is {connection.vendor}")
    partner = partner_create(identifier="etax", now=clock())
    ticket = partner.ticket(now=clock(), **person_claims("张伟"))

    made, refused, errors = run_together(
        lambda n: sso_ticket_arrive(token=ticket, actor=actors.visitor(), now=clock()).login.public_id, CLIENTS, expected=SsoRefused)

    assert errors == []
    assert len(made) == 1
    assert [exc.code for exc in refused] == ["replayed"] * (CLIENTS - 1)
    assert list(SsoLogin.objects.values_list("public_id", flat=True)) == made
    assert PartnerNonce.objects.count() == 1
