"""The partner API v1 (issue 13): signed requests (timestamp, nonce once), idempotency keys on
writes, one error shape {code, message, request_id}; ticket exchange, session check, partner
logout, payment and agreement state of the partner's own people only."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest

from shebao.audit.models import AuditEvent
from shebao.sso.models import SsoLogin
from tests.sso.factories import partner_create, signed_headers
from tests.sso.people import person_claims

pytestmark = pytest.mark.django_db


def _post(client, partner, path: str, data: dict, *, now, key: str | None = "idem-key-0001", **over):
    body = json.dumps(data).encode()
    headers = signed_headers(partner, method="POST", path=path, body=body, now=now, idempotency_key=key, **over)
    return client.post(path, body, content_type="application/json", headers=headers)


def _get(client, partner, path: str, *, now):
    return client.get(path, headers=signed_headers(partner, method="GET", path=path, now=now))


def _error(response, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status
    assert set(body) == {"code", "message", "request_id"}
    assert body["code"] == code and body["request_id"] == response["X-Request-Id"]
    return body


def _exchange(client, partner, clock, key="idem-key-0001", **claims):
    ticket = partner.ticket(now=clock(), sid="etax-session-0042", **person_claims("张伟", **claims))
    return _post(client, partner, "/api/v1/sso/tickets", {"ticket": ticket}, now=clock(), key=key)


def test_openapi_document_is_served_with_the_v1_paths(client):
    doc = client.get("/api/openapi.json").json()
    assert {"/api/v1/sso/tickets", "/api/v1/sso/check", "/api/v1/sso/logout", "/api/v1/payments/{order_no}",
            "/api/v1/agreements/{agreement_no}"} <= set(doc["paths"])


def test_ticket_exchange_gives_a_one_time_arrival_link_without_identity(client, partner, clock):
    response = _exchange(client, partner, clock)

    assert response.status_code == 200
    url = response.json()["arrival_url"]
    assert person_claims("张伟")["id_number"] not in url and "张伟" not in url
    path = urlsplit(url).path
    first = client.get(path)
    assert first.status_code == 302 and first["Referrer-Policy"] == "no-referrer"
    assert client.session["sso"]["channel"] == "etax"
    client.post("/accounts/logout")
    second = client.get(path)
    assert second.status_code == 400 and "登录链接无效或已过期" in second.content.decode()
    assert AuditEvent.objects.filter(action="sso.ticket.exchange").count() == 1


def test_retried_exchange_with_the_same_key_answers_the_same_and_makes_one_login(client, partner, clock):
    ticket = partner.ticket(now=clock(), **person_claims("张伟"))
    first = _post(client, partner, "/api/v1/sso/tickets", {"ticket": ticket}, now=clock())
    again = _post(client, partner, "/api/v1/sso/tickets", {"ticket": ticket}, now=clock())

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json()
    assert SsoLogin.objects.count() == 1


def test_same_key_for_another_body_is_refused(client, partner, clock):
    assert _exchange(client, partner, clock).status_code == 200
    _error(_exchange(client, partner, clock), 409, "idempotency_conflict")
    assert SsoLogin.objects.count() == 1


def test_write_without_idempotency_key_is_refused(client, partner, clock):
    _error(_exchange(client, partner, clock, key=None), 422, "invalid_request")
    assert SsoLogin.objects.count() == 0


def test_ticket_refused_by_the_checks_is_a_400_in_the_shape(client, partner, clock):
    body = _error(_exchange(client, partner, clock, name="张三"), 400, "name_mismatch")
    assert body["message"] == "姓名与该证件号码的登记信息不一致，请核对"
    assert SsoLogin.objects.count() == 0


def test_ticket_of_another_partner_is_refused(client, partner, clock):
    bank = partner_create(identifier="bank", now=clock())
    ticket = bank.ticket(now=clock(), **person_claims("张伟"))
    _error(_post(client, partner, "/api/v1/sso/tickets", {"ticket": ticket}, now=clock()), 400, "issuer_mismatch")


def test_bad_signature_unknown_partner_skew_and_replay(client, partner, clock):
    path = "/api/v1/sso/check"
    body = json.dumps({"partner_session": "etax-session-0042"}).encode()
    good = signed_headers(partner, method="POST", path=path, body=body, now=clock(), nonce="nonce-000001")

    def post(headers):
        return client.post(path, body, content_type="application/json", headers=headers)

    _error(post({**good, "X-Signature": good["X-Signature"][:-4] + "AAA="}), 401, "unauthorized")
    _error(post({**good, "X-Partner-Id": "ghost"}), 401, "unauthorized")
    old = signed_headers(partner, method="POST", path=path, body=body, now=clock() - dt.timedelta(minutes=5))
    _error(post(old), 401, "clock_skew")
    assert post(good).status_code == 200
    _error(post(good), 409, "replayed")


def test_check_and_partner_logout(client, partner, clock):
    assert client.post("/sso/ticket", {"ticket": partner.ticket(now=clock(), sid="etax-session-0042",
                                                               **person_claims("张伟"))}).status_code == 302
    data = {"partner_session": "etax-session-0042"}

    before = _post(client, partner, "/api/v1/sso/check", data, now=clock(), key=None)
    ended = _post(client, partner, "/api/v1/sso/logout", data, now=clock(), key="logout-key-01")
    after = _post(client, partner, "/api/v1/sso/check", data, now=clock(), key=None)

    assert before.json() == {"partner_session": "etax-session-0042", "active": True}
    assert ended.json() == {"partner_session": "etax-session-0042", "ended": 1}
    assert after.json() == {"partner_session": "etax-session-0042", "active": False}
    assert "_auth_user_id" not in client.session
    assert SsoLogin.objects.get().end_reason == "partner_logout"


def test_payment_state_only_of_the_partners_own_people(client, partner, clock):
    from decimal import Decimal

    from shebao.accounts.models import Account
    from shebao.common import crypto
    from shebao.fees.models import PaymentOrder

    account = Account.objects.filter(is_staff=False).order_by("pk").first()
    order = PaymentOrder.objects.create(public_id=crypto.random_token(12), account=account, registration_no="R1", description="养老保险",
                                        amount=Decimal("3546.12"), created_at=clock())
    path = f"/api/v1/payments/{order.public_id}"

    _error(_get(client, partner, path, now=clock()), 404, "not_found")  # nobody came through this partner yet
    SsoLogin.objects.create(public_id="login-0001", channel=partner.channel, account=account, partner_session="etax-s-0001", created_at=clock())
    response = _get(client, partner, path, now=clock())

    assert response.status_code == 200
    assert response.json() == {"order_no": order.public_id, "state": "open", "state_label": "待缴费", "amount": "3546.12", "paid_at": None}


def test_unknown_agreement_is_404_in_the_shape(client, partner, clock):
    _error(_get(client, partner, "/api/v1/agreements/NO-SUCH-1", now=clock()), 404, "not_found")
