"""CoreSystem port: the province's core social-insurance-fee system (金三社保费核心系统).

The default adapter is the embedded core (our own tables in ``shebao.core``);
a deployment with the real core switches ``CORE_SYSTEM`` to its HTTP client
and nothing above the port changes."""

from __future__ import annotations

from functools import lru_cache

from shebao.adapters.core.port import Core

DEFAULT_CORE = "shebao.adapters.core.embedded.EmbeddedCore"


@lru_cache(maxsize=1)
def get_core() -> Core:
    """The configured core: ``settings.CORE_SYSTEM``, the dotted path of a class
    implementing the port (default the embedded core). It must pass
    tests/contract/core_contract.py."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(getattr(settings, "CORE_SYSTEM", DEFAULT_CORE))()
