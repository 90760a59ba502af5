"""shebao.common.client_ip (trusted proxy count) and shebao.common.ratelimit (the facade)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from shebao.common import ratelimit
from shebao.common.client_ip import client_ip


def _request(remote="10.0.0.9", xff=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_proxies_the_header_is_ignored():
    assert client_ip(_request(xff="1.2.3.4")) == "10.0.0.9"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_one_proxy_takes_the_last_entry_not_what_the_client_wrote():
    assert client_ip(_request(xff="6.6.6.6, 203.0.113.7")) == "203.0.113.7"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_two_proxies_take_the_second_from_the_right():
    assert client_ip(_request(xff="6.6.6.6, 203.0.113.7, 10.0.0.2")) == "203.0.113.7"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_garbage_or_missing_header_falls_back_to_the_peer():
    assert client_ip(_request(xff="not-an-ip")) == "10.0.0.9"
    assert client_ip(_request()) == "10.0.0.9"


def test_hit_refuses_over_the_limit_with_a_retry_after():
    assert ratelimit.hit("2/minute", "t", "a").allowed
    assert ratelimit.hit("2/minute", "t", "a").allowed
    refused = ratelimit.hit("2/minute", "t", "a")
    assert not refused.allowed and 1 <= refused.retry_after <= 60
    assert ratelimit.hit("2/minute", "t", "b").allowed  # another identifier counts apart
    assert not ratelimit.check("2/minute", "t", "a").allowed
    ratelimit.clear("2/minute", "t", "a")
    assert ratelimit.check("2/minute", "t", "a").allowed


@pytest.mark.parametrize("scope", ["first", "second"])
def test_counts_start_empty_in_every_test(scope):
    assert ratelimit.hit("1/hour", "fresh", "x").allowed


def test_many_threads_at_first_use_share_one_limiter_over_redis(settings, monkeypatch):
    """The first requests of a fresh process come in threads at once (gthread): they must
    all get the one storage, and over Redis not trip the library's lazy version check."""
    import threading
    import uuid

    from shebao.common import ratelimit as rl

    settings.RATELIMIT_STORAGE_URL = "redis://127.0.0.1:6379/0"
    settings.RATELIMIT_KEY_PREFIX = f"shebao-rl-test-{uuid.uuid4().hex}"
    monkeypatch.setattr(rl, "_made", {})
    barrier, results, errors = threading.Barrier(8), [], []

    def first_use():
        barrier.wait(timeout=10)
        try:
            results.append(rl.hit("100/minute", "threads", "one"))
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and len(results) == 8 and all(v.allowed for v in results)
    assert rl._storage() is rl._made["storage"] and len({id(rl._storage()) for _ in range(3)}) == 1
    rl.clear("100/minute", "threads", "one")
