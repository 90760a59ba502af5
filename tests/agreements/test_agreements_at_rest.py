"""Agreements at rest: a raw dump of every table, once both kinds are signed, holds no
account number, ID number or name in clear text (they are encrypted; the account is kept
masked for lists)."""

from __future__ import annotations

import pytest

from shebao.agreements import agreement_services as services
from tests.accounts.test_data_at_rest import _raw_dump
from tests.agreements.fakes import FakeBank
from tests.agreements.helpers import WANG, ZHANG, own_card, signer, wang

pytestmark = pytest.mark.django_db


def test_a_dump_after_signing_both_kinds_holds_no_clear_account_identity_or_name(demo_people, clock):
    account, actor, profile = signer(now=clock.now)
    services.three_party_create(actor=actor, profile=profile, to=own_card(), method="paper", sign=True, now=clock.now)
    services.two_party_create(actor=actor, profile=profile, person=wang(), to=own_card(), sign=True, now=clock.now, gateway=FakeBank())

    dump = _raw_dump()

    assert own_card().account_number[-4:] in dump  # the masked form is there
    for value in (own_card().account_number, account.id_number, wang().id_number, ZHANG, WANG[0]):
        assert value not in dump, f"clear value found: {value[:3]}…"
