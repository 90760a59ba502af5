"""Fixtures of the user-centre tests."""

from __future__ import annotations

import time
import types

import pytest


@pytest.fixture
def limits_clock(clock, monkeypatch):
    """The test clock drives the rate-limit windows too (shebao.common.ratelimit on the
    ``limits`` memory storage, which reads ``time.time()``), so a test can let a lock expire."""
    import limits.storage.memory as memory

    from shebao.common import ratelimit

    fake = types.SimpleNamespace(time=lambda: clock().timestamp(), monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(memory, "time", fake)
    monkeypatch.setattr(ratelimit, "time", fake)
    return clock
