"""Sessions in Redis (REDIS_URL set, as in production): read from Redis, written
through to the database; a logout ends the session in Redis and in the database."""

from __future__ import annotations

import secrets

import pytest
import redis as redis_lib
from django.contrib.sessions.models import Session
from django.core.cache import cache

from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
from tests.accounts.helpers import login

REDIS = "redis://127.0.0.1:6379/0"
BACKEND = "shebao.common.redis_cache.ReusedClientRedisCache"  # as config.settings uses with REDIS_URL
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_sessions(settings):
    prefix = f"shebao-test-{secrets.token_hex(4)}"
    settings.REDIS_URL = REDIS
    settings.CACHES = {"default": {"BACKEND": BACKEND, "LOCATION": REDIS, "KEY_PREFIX": prefix}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    yield prefix
    server = redis_lib.Redis.from_url(REDIS)
    for key in server.scan_iter(match=f"{prefix}:*", count=500):
        server.delete(key)


def _cached(session_key: str):
    return cache.get(f"django.contrib.sessions.cached_db{session_key}")


def test_login_session_is_in_redis_and_database_and_logout_ends_both(client, sims, clock, demo_people, redis_sessions):
    response = login(client, sims, demo_id(DEMO_PEOPLE[0]), DEMO_PASSWORD)
    assert response.status_code == 302
    key = client.cookies["sessionid"].value
    assert _cached(key) is not None and "_auth_user_id" in _cached(key)
    assert Session.objects.filter(session_key=key).exists()
    assert client.get("/accounts/me").status_code == 200

    client.post("/accounts/logout")
    assert _cached(key) is None
    assert not Session.objects.filter(session_key=key).exists()
    # the old cookie is worth nothing now
    client.cookies["sessionid"] = key
    assert client.get("/accounts/me").status_code == 302


def test_a_session_missing_from_redis_is_read_from_the_database(client, sims, clock, demo_people, redis_sessions):
    login(client, sims, demo_id(DEMO_PEOPLE[0]), DEMO_PASSWORD)
    key = client.cookies["sessionid"].value
    cache.delete(f"django.contrib.sessions.cached_db{key}")  # e.g. Redis restarted
    assert client.get("/accounts/me").status_code == 200
    assert _cached(key) is not None  # and put back


def test_readiness_reports_redis(client, redis_sessions, settings):
    body = client.get("/readyz").json()
    assert body["checks"]["cache"] == "ok"
    settings.CACHES = {"default": {"BACKEND": BACKEND, "LOCATION": "redis://127.0.0.1:1/0"}}
    body = client.get("/readyz").json()
    assert body["checks"]["cache"].startswith("error") and body["status"] == "unavailable"


def test_one_redis_client_per_pool_shared_by_operations_and_threads(redis_sessions):
    import threading

    from django.core.cache import caches

    backend = caches["default"]
    assert type(backend).__name__ == "ReusedClientRedisCache"
    client = backend._cache.get_client()
    assert backend._cache.get_client(write=True) is client  # one server: reads and writes share the pool
    errors = []

    def worker(n):
        try:
            for i in range(50):
                backend._cache.get_client().set(f"{redis_sessions}:t{n}:{i}", str(i))
                assert backend.get_many([]) == {}
                assert client.get(f"{redis_sessions}:t{n}:{i}") == str(i).encode()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    cache.set("k", {"v": 1})
    assert cache.get("k") == {"v": 1} and backend._cache.get_client() is client


def test_mobile_change_ends_the_other_sessions_in_redis_and_database(client, sims, clock, demo_people, redis_sessions):
    from django.test import Client

    from shebao.accounts.models import Account

    zhang = next(a for a in Account.objects.all() if a.name == DEMO_PEOPLE[0][0])
    elsewhere = Client()
    elsewhere.force_login(zhang)
    other_key = elsewhere.cookies["sessionid"].value
    client.force_login(zhang)
    key = client.cookies["sessionid"].value
    assert _cached(other_key) is not None

    new = "13700005555"
    client.post("/accounts/me/mobile", {"action": "send_code", "mobile": new})
    response = client.post("/accounts/me/mobile", {"action": "save", "mobile": new, "sms_code": sims.last_code(new), "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert _cached(other_key) is None
    assert not Session.objects.filter(session_key=other_key).exists()
    assert elsewhere.get("/accounts/me").status_code == 302
    assert Session.objects.filter(session_key=key).exists() and client.get("/accounts/me").status_code == 200
