"""登录: password then an SMS code; uniform failure message; locking; session rotation."""

from __future__ import annotations

import pytest

from shebao.accounts.services import LOGIN_FAILED_MESSAGE
from shebao.audit.models import AuditEvent
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login

pytestmark = pytest.mark.django_db

ZHANG = DEMO_PEOPLE[0]


def test_login_with_id_number_password_and_sms_code(client, sims, demo_people):
    before = client.session.session_key
    response = login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/me"
    assert client.session.session_key != before
    page = client.get("/accounts/me").content.decode()
    assert "张伟" in page
    assert demo_id(ZHANG) not in page  # masked
    assert demo_id(ZHANG)[:4] + "**********" + demo_id(ZHANG)[-4:] in page
    assert "138****0001" in page
    assert sims.messages()[0]["phone"] == ZHANG[4]


def test_login_with_mobile_number(client, sims, demo_people):
    response = login(client, sims, ZHANG[4], DEMO_PASSWORD)
    assert response.status_code == 302
    assert client.get("/accounts/me").status_code == 200


def test_same_message_for_unknown_account_and_wrong_password(client, sims, demo_people):
    wrong = client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": "Wrong@2026"})
    unknown = client.post("/accounts/login", {"identifier": "450103199001011234", "password": "Wrong@2026"})
    assert wrong.status_code == unknown.status_code == 400
    assert LOGIN_FAILED_MESSAGE in wrong.content.decode()
    assert LOGIN_FAILED_MESSAGE in unknown.content.decode()
    assert sims.messages() == []  # no code sent before the password is right


def test_password_alone_does_not_log_in(client, sims, demo_people):
    response = client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/verify"
    assert client.get("/accounts/me").status_code == 302  # still anonymous


@pytest.mark.parametrize("identifier", [demo_id(ZHANG), "450103199001011234"])
def test_locks_after_five_failures_whether_or_not_account_exists(client, sims, demo_people, identifier):
    for _ in range(5):
        client.post("/accounts/login", {"identifier": identifier, "password": "Wrong@2026"})
    response = client.post("/accounts/login", {"identifier": identifier, "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "登录失败次数过多，请15分钟后再试" in response.content.decode()
    assert sims.messages() == []


def test_lock_expires_after_fifteen_minutes(client, sims, demo_people, limits_clock):
    for _ in range(5):
        client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": "Wrong@2026"})
    limits_clock.advance(minutes=16)
    assert login(client, sims, demo_id(ZHANG), DEMO_PASSWORD).status_code == 302


def test_wrong_sms_code_refused_then_dead_after_five_tries(client, sims, demo_people):
    client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD})
    real = sims.last_code(ZHANG[4])
    wrong = "000000" if real != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = client.post("/accounts/login/verify", {"action": "verify", "sms_code": wrong})
        assert f"还可尝试{left}次" in response.content.decode()
    response = client.post("/accounts/login/verify", {"action": "verify", "sms_code": wrong})
    assert "错误次数过多" in response.content.decode()
    response = client.post("/accounts/login/verify", {"action": "verify", "sms_code": real})
    assert response.status_code == 400
    assert "请重新获取验证码" in response.content.decode()
    assert client.get("/accounts/me").status_code == 302


def test_logout_ends_the_session(client, sims, demo_people):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    response = client.post("/accounts/logout")
    assert response.status_code == 302
    assert client.get("/accounts/me").status_code == 302
    assert AuditEvent.objects.filter(action="account.login.sms", outcome="success").count() == 1


def test_idle_timeout_logs_out(client, sims, demo_people, settings):
    import time

    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    session = client.session
    session["_last_seen"] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT_SECONDS - 5
    session.save()
    response = client.get("/accounts/me")
    assert response.status_code == 302 and "timeout=1" in response["Location"]
    assert client.get("/accounts/me").status_code == 302
