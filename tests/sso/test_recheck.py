"""Re-verification with the partner (REQUIREMENTS §1.4): on opening a business function and
on switching to another, the service asks the partner (back-channel check, against the partner
simulator); the answer holds within the function; "no", no answer or a channel switched off
ends the session."""

from __future__ import annotations

import pytest

from shebao.audit.models import AuditEvent
from shebao.sso.models import PartnerChannel, SsoLogin
from tests.sso.sim import register_simulated, sim_checks, sim_control, sim_revoke, sim_ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def arrived(client, sims, demo_people):
    """张伟 signed on from the simulated e-tax bureau: (client, partner session)."""
    register_simulated(sims)
    ticket, sid = sim_ticket(sims)
    assert client.post("/sso/ticket", {"ticket": ticket}).status_code == 302
    return client, sid


def test_opening_and_switching_functions_asks_the_partner_once_each(arrived, sims):
    client, sid = arrived

    assert client.get("/accounts/me").status_code == 200
    assert client.get("/accounts/me").status_code == 200  # still in 信息查看: no new check
    assert client.get("/agreements/").status_code == 200  # switched: checked again
    assert client.get("/").status_code == 200  # back home
    assert client.get("/agreements/").status_code == 200  # opened again: checked again

    assert sim_checks(sims) == [{"partner": "etax", "sid": sid, "function": f, "active": True}
                                for f in ("user.info", "agreements", "agreements")]
    assert AuditEvent.objects.filter(action="sso.recheck", outcome="success").count() == 3


def test_partner_saying_no_ends_the_session(arrived, sims):
    client, sid = arrived
    assert client.get("/accounts/me").status_code == 200
    sim_revoke(sims, sid=sid)

    response = client.get("/agreements/")

    assert response.status_code == 403
    assert "身份复核未通过" in response.content.decode()
    assert "_auth_user_id" not in client.session
    login = SsoLogin.objects.get()
    assert (login.end_reason, login.ended_at is not None) == ("revoked", True)
    assert client.get("/accounts/me").status_code == 302  # to the login page
    assert AuditEvent.objects.filter(action="sso.recheck", outcome="failure").count() == 1


def test_partner_not_answering_ends_the_session(arrived, sims):
    client, _ = arrived
    sim_control(sims, "etax", "down")

    response = client.get("/accounts/me")

    assert response.status_code == 403
    assert SsoLogin.objects.get().end_reason == "unavailable"
    assert "_auth_user_id" not in client.session


def test_channel_switched_off_ends_the_session_without_asking(arrived, sims):
    client, _ = arrived
    PartnerChannel.objects.filter(identifier="etax").update(enabled=False)

    response = client.get("/accounts/me")

    assert response.status_code == 403
    assert SsoLogin.objects.get().end_reason == "channel_disabled"
    assert sim_checks(sims) == []


def test_a_password_login_is_never_sent_to_a_partner(client, sims, demo_people):
    from shebao.accounts.models import Account
    from shebao.common.identity import identity_index
    from shebao.core.demo_data import DEMO_PEOPLE, demo_id

    register_simulated(sims)
    account = Account.objects.get(id_index=identity_index(id_type="201", id_number=demo_id(DEMO_PEOPLE[0])))
    client.force_login(account)

    assert client.get("/accounts/me").status_code == 200
    assert sim_checks(sims) == []
