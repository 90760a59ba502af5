"""OpenID Connect partners (the simulated 政务服务 app): code flow with PKCE, the signed ID
token checked against the JWKS, the person signed in bound to the channel; a wrong state or a
replayed code signs nobody in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shebao.audit.models import AuditEvent
from shebao.sso.models import PartnerChannel, SsoLogin
from shebao.sso.oidc import oidc_begin
from tests.sso.sim import register_simulated, sim_checks, sim_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _authorize(client, sims, sid: str) -> tuple[str, dict]:
    """Start at the service, sign in at the partner (as ``sid``): the callback path and its query."""
    start = client.get("/sso/oidc/gov/start")
    assert start.status_code == 302 and start["Referrer-Policy"] == "no-referrer"
    url = start["Location"]
    query = parse_qs(urlsplit(url).query)
    assert (query["code_challenge_method"], query["scope"], query["response_type"]) == (["S256"], ["openid"], ["code"])
    assert "code_verifier" not in url
    back = httpx.get(f"{url}&login_hint={sid}", timeout=5)
    assert back.status_code == 302
    location = urlsplit(back.headers["Location"])
    return location.path, {k: v[0] for k, v in parse_qs(location.query).items()}


@pytest.fixture
def gov(sims, demo_people):
    register_simulated(sims)
    _, sid = sim_ticket(sims, "gov")  # opens 张伟's session at the partner
    return sid


def test_oidc_login_signs_the_person_in_bound_to_the_channel_and_rechecks(client, sims, gov):
    path, query = _authorize(client, sims, gov)

    response = client.get(path, query)

    assert response.status_code == 302 and response["Location"] == "/"
    login = SsoLogin.objects.get()
    assert (login.channel.identifier, login.partner_session) == ("gov", gov)
    assert client.session["_auth_method"] == "oidc"
    assert AuditEvent.objects.get(action="sso.arrival").outcome == "success"
    assert client.get("/accounts/me").status_code == 200
    assert sim_checks(sims, "gov") == [{"partner": "gov", "sid": gov, "function": "user.info", "active": True}]


def test_wrong_state_signs_nobody_in(client, sims, gov):
    path, query = _authorize(client, sims, gov)

    response = client.get(path, {**query, "state": "forged-state"})

    assert response.status_code == 400
    assert "合作渠道身份认证未完成" in response.content.decode()
    assert "_auth_user_id" not in client.session and SsoLogin.objects.count() == 0
    event = AuditEvent.objects.get(action="sso.arrival")
    assert (event.outcome, event.changes["reason"]["new"]) == ("failure", "oidc_failed")


def test_a_code_is_good_once(client, sims, gov):
    path, query = _authorize(client, sims, gov)
    assert client.get(path, query).status_code == 302
    client.post("/accounts/logout")
    second, _ = _authorize(client, sims, gov)

    response = client.get(second, query)  # the first code again, with a fresh state in the session

    assert response.status_code == 400
    assert SsoLogin.objects.count() == 1


def test_token_request_without_the_verifier_is_refused_by_the_partner(sims, gov):
    channel = PartnerChannel.objects.get(identifier="gov")
    url, _ = oidc_begin(channel=channel, redirect_uri="http://testserver/cb")
    back = httpx.get(f"{url}&login_hint={gov}", timeout=5)
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]

    answer = httpx.post(channel.oidc_token_url, timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://testserver/cb",
        "client_id": channel.oidc_client_id, "client_secret": channel.oidc_client_secret})

    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_grant"})
