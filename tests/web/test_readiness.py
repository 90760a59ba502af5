"""/readyz with SM2 on the slow gmalg fallback: still ready, and the logs say so once per
process (not on every probe); with the native backend nothing is said."""

from __future__ import annotations

import logging

import pytest

from shebao.common import crypto
from shebao.web import readiness

WARNING = "SM2 falls back to gmalg: libcrypto 3 with SM2 not found"


@pytest.mark.django_db
@pytest.mark.parametrize(("backend", "warnings"), [("gmalg", [WARNING]), ("openssl", [])])
def test_sm2_backend_is_ready_and_a_fallback_is_warned_once(client, monkeypatch, caplog, settings, backend, warnings):
    settings.SHEBAO_CRYPTO_SUITE = "sm"
    monkeypatch.setattr(crypto, "sm2_backend", lambda: backend)
    readiness._warn_sm2_fallback.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="shebao.common"):
            bodies = [client.get("/readyz").json() for _ in range(3)]
    finally:
        readiness._warn_sm2_fallback.cache_clear()
    assert all(b["checks"]["crypto"] == "ok" for b in bodies)
    assert [r.getMessage() for r in caplog.records if "gmalg" in r.getMessage()] == warnings
