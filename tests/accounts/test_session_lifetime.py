"""The 8-hour session limit counts from login, not from the last request: a person
active every 10 minutes is still logged out 8 hours after logging in (the database
expiry alone slides with every session save)."""

from __future__ import annotations

import datetime as dt

import pytest

from shebao.common import middleware
from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login
from tests.clocks import MovingClock

pytestmark = pytest.mark.django_db

ZHANG = DEMO_PEOPLE[0]


@pytest.fixture
def session_clock(monkeypatch):
    """The wall clock of session lifetimes, moved by the test."""
    clock = MovingClock(dt.datetime.now(dt.UTC))
    monkeypatch.setattr(middleware, "session_seconds", lambda: clock().timestamp())
    return clock


def test_active_session_still_ends_eight_hours_after_login(client, sims, demo_people, settings, session_clock):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert login(client, sims, demo_id(ZHANG), DEMO_PASSWORD).status_code == 302
    for _ in range(47):  # a request every 10 minutes, up to 7 h 50 min after login
        session_clock.advance(minutes=10)
        assert client.get("/accounts/me").status_code == 200
    session_clock.advance(minutes=10)  # 8 h after login, 10 minutes after the last request
    response = client.get("/accounts/me")
    assert response.status_code == 302 and response["Location"] == "/accounts/login?expired=1"
    assert "本次登录已满8小时" in client.get(response["Location"]).content.decode()
    assert client.get("/accounts/me").status_code == 302  # logged out, not just redirected once
    assert "_auth_user_id" not in client.session


def stay_active(client, clock, *, minutes: int) -> None:
    """A request every 10 minutes (well inside the 15-minute idle timeout), each one served."""
    for _ in range(minutes // 10):
        clock.advance(minutes=10)
        assert client.get("/accounts/me").status_code == 200


def test_logging_in_again_starts_a_new_eight_hours(client, sims, demo_people, session_clock):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    stay_active(client, session_clock, minutes=7 * 60)
    assert client.post("/accounts/logout").status_code == 302
    li = DEMO_PEOPLE[1]  # another person: the business clock stands still, so 张伟's SMS limit would refuse
    assert login(client, sims, demo_id(li), DEMO_PASSWORD).status_code == 302
    stay_active(client, session_clock, minutes=7 * 60)  # 14 h after the first login, 7 h after the second


def test_every_login_path_is_stamped_including_force_login(client, demo_people, session_clock):
    from shebao.accounts.models import Account

    client.force_login(Account.objects.filter(is_active=True).first())  # the admin's login sends the same signal
    assert client.session[middleware.LOGIN_AT_KEY] == int(session_clock().timestamp())


def test_a_session_from_before_the_limit_is_stamped_on_first_request(client, sims, demo_people, session_clock):
    login(client, sims, demo_id(ZHANG), DEMO_PASSWORD)
    session = client.session
    del session[middleware.LOGIN_AT_KEY]
    session.save()
    session_clock.advance(minutes=10)
    stamped = int(session_clock().timestamp())
    assert client.get("/accounts/me").status_code == 200
    assert client.session[middleware.LOGIN_AT_KEY] == stamped
    stay_active(client, session_clock, minutes=7 * 60 + 50)
    session_clock.advance(minutes=10)
    assert client.get("/accounts/me")["Location"] == "/accounts/login?expired=1"
