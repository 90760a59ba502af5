"""CoreSystem port: the province's core social-insurance-fee system (金三社保费核心系统).

The default adapter is the embedded core (our own tables in ``shebao.core``);
a deployment with the real core switches ``CORE_SYSTEM`` to its HTTP client
and nothing above the port changes."""

from __future__ import annotations

from functools import lru_cache

from shebao.adapters.core.port import CoreSystem


@lru_cache(maxsize=1)
def get_core() -> CoreSystem:
    from shebao.adapters.core.embedded import EmbeddedCore

    return EmbeddedCore()
