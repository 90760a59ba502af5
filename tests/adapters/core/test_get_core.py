"""The core adapter is chosen by configuration (``settings.CORE_SYSTEM``), default the embedded core."""

from __future__ import annotations

import pytest

from shebao.adapters.core import get_core
from shebao.adapters.core.embedded import EmbeddedCore


class OtherCore(EmbeddedCore):
    """Stands in for another implementation (e.g. the real core's client)."""


@pytest.fixture(autouse=True)
def _fresh_core():
    get_core.cache_clear()
    yield
    get_core.cache_clear()


def test_default_is_the_embedded_core(settings):
    if hasattr(settings, "CORE_SYSTEM"):
        del settings.CORE_SYSTEM
    assert type(get_core()) is EmbeddedCore


def test_core_system_setting_switches_the_adapter(settings):
    settings.CORE_SYSTEM = f"{__name__}.OtherCore"
    assert type(get_core()) is OtherCore
    assert get_core() is get_core()  # one per process
