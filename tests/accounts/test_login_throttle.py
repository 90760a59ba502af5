"""Login throttling (issue 8): per account (ID number and mobile together), per client
address, a lock that does not hand out fresh guesses, and the per-process argon2 cap."""

from __future__ import annotations

import pytest

from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login

pytestmark = pytest.mark.django_db

ZHANG, LI = DEMO_PEOPLE[0], DEMO_PEOPLE[1]
WRONG = "Wrong@2026"
LOCKED = "登录失败次数过多"


def _fail(client, identifier, times, **extra):
    for _ in range(times):
        response = client.post("/accounts/login", {"identifier": identifier, "password": WRONG}, **extra)
        assert response.status_code == 400
    return response


def test_id_number_and_mobile_of_one_account_count_together(client, sims, demo_people):
    _fail(client, demo_id(ZHANG), 3)
    last = _fail(client, ZHANG[4], 2)
    assert "登录失败次数过多，请15分钟后再试" in last.content.decode()
    for identifier in (demo_id(ZHANG), ZHANG[4]):
        response = client.post("/accounts/login", {"identifier": identifier, "password": DEMO_PASSWORD})
        assert response.status_code == 400 and LOCKED in response.content.decode()
    assert sims.messages() == []
    # another account is not affected
    assert login(client, sims, demo_id(LI), DEMO_PASSWORD).status_code == 302


def test_one_address_spraying_identifiers_is_limited(client, sims, demo_people, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = "6 per 15 minutes"
    for n in range(6):
        _fail(client, f"45010319900101{n:04d}", 1, REMOTE_ADDR="203.0.113.9")
    refused = client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 400 and LOCKED in refused.content.decode()
    assert sims.messages() == []
    # the account itself was never guessed at: from another address it logs in
    ok = client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD}, REMOTE_ADDR="198.51.100.4")
    assert ok.status_code == 302


def test_a_lock_does_not_hand_out_fresh_guesses_all_day(client, sims, demo_people, limits_clock):
    for _ in range(2):  # two rounds of 5 wrong guesses, each lock waited out
        _fail(client, demo_id(ZHANG), 5)
        limits_clock.advance(minutes=16)
    last = _fail(client, ZHANG[4], 5)  # the third round reaches 15 in a day
    limits_clock.advance(minutes=16)
    response = client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD})
    assert response.status_code == 400 and LOCKED in response.content.decode()
    assert LOCKED in last.content.decode()
    limits_clock.advance(hours=24)
    assert login(client, sims, demo_id(ZHANG), DEMO_PASSWORD).status_code == 302


def test_a_correct_password_clears_the_account_count(client, sims, demo_people):
    _fail(client, demo_id(ZHANG), 4)
    assert client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": DEMO_PASSWORD}).status_code == 302
    response = _fail(client, ZHANG[4], 4)
    assert LOCKED not in response.content.decode()


def test_login_gets_429_while_every_password_check_slot_is_taken(client, sims, demo_people, settings):
    from shebao.common.hashers import password_check_semaphore

    settings.PASSWORD_CHECK_WAIT_SECONDS = 0
    semaphore = password_check_semaphore()
    held = 0
    while semaphore.acquire(blocking=False):  # as if PASSWORD_CHECKS_IN_FLIGHT logins were hashing
        held += 1
    try:
        assert held == settings.PASSWORD_CHECKS_IN_FLIGHT
        for _ in range(6):
            response = client.post("/accounts/login", {"identifier": demo_id(ZHANG), "password": WRONG})
            assert response.status_code == 429
            assert response["Retry-After"] == str(settings.PASSWORD_CHECK_RETRY_AFTER_SECONDS)
            assert "系统繁忙，请稍后再试" in response.content.decode()
    finally:
        for _ in range(held):
            semaphore.release()
    # refused posts were not counted as guesses: the account is not locked
    assert login(client, sims, demo_id(ZHANG), DEMO_PASSWORD).status_code == 302
