"""Arriving with a partner's signed ticket (REQUIREMENTS §1.4, issue 13): verified, the account
found or created, signed in with a session bound to the channel; no identity in the URL or
the referrer."""

from __future__ import annotations

import pytest

from shebao.accounts.models import Account
from shebao.audit.models import AuditEvent
from shebao.common.identity import identity_index
from shebao.sso.models import PartnerNonce, SsoLogin
from tests.sso.people import person_claims

pytestmark = pytest.mark.django_db


def test_a_person_with_an_account_arrives_signed_in_and_bound_to_the_channel(client, partner, clock):
    claims = person_claims("张伟")
    account = Account.objects.get(id_index=identity_index(id_type="201", id_number=claims["id_number"]))
    ticket = partner.ticket(now=clock(), sid="etax-session-0001", **claims)

    response = client.post("/sso/ticket", {"ticket": ticket})

    assert response.status_code == 302 and response["Location"] == "/"
    assert response["Referrer-Policy"] == "no-referrer"
    session = client.session
    assert session["_auth_user_id"] == str(account.pk)
    assert session["_auth_method"] == "partner_ticket"
    login = SsoLogin.objects.get()
    assert (login.account, login.channel, login.partner_session, login.session_key) == (account, partner.channel, "etax-session-0001",
                                                                                       session.session_key)
    assert session["sso"] == {"login": login.public_id, "channel": "etax", "fn": None, "return_url": "https://etax.example.cn/back"}
    event = AuditEvent.objects.get(action="sso.arrival")
    assert (event.outcome, event.door, event.actor_id, event.subject_ref) == ("success", "sso", account.pk, login.public_id)
    assert client.get("/").content.decode().count("张伟") >= 1


def test_a_person_on_file_in_the_core_without_an_account_gets_one(client, partner, clock):
    claims = person_claims("王芳", mobile="13912345670")

    response = client.post("/sso/ticket", {"ticket": partner.ticket(now=clock(), **claims)})

    assert response.status_code == 302
    account = Account.objects.get(id_index=identity_index(id_type="201", id_number=claims["id_number"]))
    assert (account.name, account.person_type, account.mobile, account.real_name_verified) == ("王芳", "resident", "13912345670", True)
    assert account.identity_check_ref == "partner:etax"
    assert not account.has_usable_password()
    assert client.session["_auth_user_id"] == str(account.pk)


def test_ed25519_and_aes_gcm_channel_works_too(client, clock, demo_people):
    from tests.sso.factories import partner_create

    bank = partner_create(identifier="bank", sig_alg="ed25519", enc_alg="aesgcm", now=clock())

    response = client.post("/sso/ticket", {"ticket": bank.ticket(now=clock(), **person_claims("张伟"))})

    assert response.status_code == 302
    assert SsoLogin.objects.get().channel == bank.channel


def test_a_ticket_in_the_query_string_is_not_accepted(client, partner, clock):
    ticket = partner.ticket(now=clock(), **person_claims("张伟"))

    response = client.get(f"/sso/ticket?ticket={ticket}")

    assert response.status_code == 405
    assert "_auth_user_id" not in client.session
    assert PartnerNonce.objects.count() == 0
