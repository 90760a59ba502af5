"""/readyz with SM2 on the slow gmalg fallback: still ready, and the logs say so once per
process (not on every probe)."""

from __future__ import annotations

import logging

import pytest

from shebao.common import crypto
from shebao.web import readiness


@pytest.mark.django_db
def test_sm2_fallback_is_ready_and_warned_once(client, monkeypatch, caplog, settings):
    settings.SHEBAO_CRYPTO_SUITE = "sm"
    monkeypatch.setattr(crypto, "sm2_backend", lambda: "gmalg")
    readiness._warn_sm2_fallback.cache_clear()
    with caplog.at_level(logging.WARNING, logger="shebao.common"):
        bodies = [client.get("/readyz").json() for _ in range(3)]
    assert all(b["checks"]["crypto"] == "ok" for b in bodies)
    assert [r.getMessage() for r in caplog.records if "gmalg" in r.getMessage()] == [
        "SM2 falls back to gmalg: libcrypto 3 with SM2 not found"
    ]
    readiness._warn_sm2_fallback.cache_clear()


@pytest.mark.django_db
def test_native_sm2_gives_no_warning(client, monkeypatch, caplog, settings):
    settings.SHEBAO_CRYPTO_SUITE = "sm"
    monkeypatch.setattr(crypto, "sm2_backend", lambda: "openssl")
    readiness._warn_sm2_fallback.cache_clear()
    with caplog.at_level(logging.WARNING, logger="shebao.common"):
        assert client.get("/readyz").json()["checks"]["crypto"] == "ok"
    assert not [r for r in caplog.records if "gmalg" in r.getMessage()]
