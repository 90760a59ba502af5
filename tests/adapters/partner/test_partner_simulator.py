"""The partner simulator (shebao.adapters.partner.simulator) against the service's own
back-channel client: signed questions, signed answers, revocation, outage, the portal."""

from __future__ import annotations

import json

import httpx
import pytest

from shebao.adapters.partner import wire
from shebao.adapters.partner.client import CheckVerdict, partner_check

pytestmark = pytest.mark.django_db


def _registration(sims, partner: str) -> dict:
    return httpx.get(f"{sims.url}/sim/partner/{partner}/_registration", timeout=5).json()


def _session(sims, partner: str) -> str:
    return httpx.post(f"{sims.url}/sim/partner/{partner}/_tickets", json={}, timeout=5).json()["sid"]


def _check(reg: dict, sid: str) -> CheckVerdict:
    return partner_check(check_url=reg["check_url"], sig_alg=reg["signature_algorithm"], public_key=reg["public_key"],
                         partner_session=sid, function="fees", timeout=3, skew_seconds=30)


@pytest.mark.parametrize("partner", ["etax", "gov", "bank"])
def test_check_is_answered_signed_and_revocation_turns_it_to_no(sims, partner):
    reg, sid = _registration(sims, partner), _session(sims, partner)

    first = _check(reg, sid)
    httpx.post(f"{sims.url}/sim/partner/{partner}/_revoke", json={"sid": sid}, timeout=5)
    second = _check(reg, sid)

    assert (first, second) == (CheckVerdict(True, "active"), CheckVerdict(False, "revoked"))


def test_unknown_session_is_no(sims):
    assert _check(_registration(sims, "etax"), "etax-nobody-000") == CheckVerdict(False, "revoked")


def test_question_not_signed_by_the_service_is_refused(sims):
    reg = _registration(sims, "etax")
    body = json.dumps({"sid": _session(sims, "etax"), "function": "fees", "ts": 0, "nonce": "x" * 16}).encode()

    answer = httpx.post(reg["check_url"], content=body, headers={"X-Shebao-Signature": "sm2:" + "00" * 64}, timeout=5)

    assert answer.status_code == 401


def test_answer_under_another_key_than_the_registered_one_counts_as_no(sims):
    reg, sid = _registration(sims, "etax"), _session(sims, "etax")
    other = _registration(sims, "gov")  # SM2 too, another key

    assert _check({**reg, "public_key": other["public_key"]}, sid) == CheckVerdict(False, "bad_answer")


def test_partner_down_is_no(sims):
    reg, sid = _registration(sims, "etax"), _session(sims, "etax")
    httpx.post(f"{sims.url}/sim/partner/etax/_control", json={"mode": "down"}, timeout=5)

    assert _check(reg, sid) == CheckVerdict(False, "unavailable")


def test_portal_sends_the_person_on_with_a_posted_ticket_and_no_referrer(sims):
    portal = httpx.get(f"{sims.url}/sim/partner/etax/", timeout=5)
    go = httpx.post(f"{sims.url}/sim/partner/etax/go", data={"person": "0"}, timeout=5)

    assert "以 张伟 的身份进入社保费掌上办" in portal.text
    assert go.headers["Referrer-Policy"] == "no-referrer"
    assert f'<form method="post" action="{sims.url}/sso/ticket">' in go.text
    ticket = go.text.split('name="ticket" value="')[1].split('"')[0]
    assert wire.ticket_parse(ticket).header == {"v": 1, "iss": "etax", "alg": "sm2", "enc": "sm4gcm"}
    assert "张伟" not in ticket


def test_oidc_partner_portal_sends_the_person_to_the_service_with_a_partner_cookie(sims):
    go = httpx.post(f"{sims.url}/sim/partner/gov/go", data={"person": "0"}, timeout=5)

    assert go.status_code == 303
    assert go.headers["Location"] == f"{sims.url}/sso/oidc/gov/start"
    assert go.headers["Set-Cookie"].startswith("simsid_gov=gov-")
