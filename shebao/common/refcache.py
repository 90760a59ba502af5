"""Per-process caches of small reference tables (contribution rules, insurance types).

Every declare and quote request needs the rules in force and the insurance-type names;
reading them from the database each time was about a sixth of the statements of a
payment (docs/performance.md). These tables are small, dated and changed by staff a few
times a year, so each server process keeps one copy:

* a copy is reloaded when it is older than ``settings.REFERENCE_CACHE_SECONDS``
  (default 30 s): a change saved in the back office reaches every process within
  that time; ``0`` turns caching off (every read loads);
* a save or delete of a watched model in this process clears the copy at once and
  again when the transaction commits, so the process that saved sees its change
  immediately (``watch`` connects the signals; the apps do it in ``ready``);
* ``clear_all`` empties every copy (tests call it before each test, since a rolled-back
  test transaction sends no signal).

A copy is an immutable value built by its loader (tuples, frozen dataclasses, read-only
mappings), shared by the threads of the process; loading happens under a lock so a
cold copy is loaded once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

_registry: list[ProcessCache] = []


class ProcessCache(Generic[T]):
    def __init__(self, name: str, loader: Callable[[], T]):
        self.name = name
        self._loader = loader
        self._lock = threading.Lock()
        self._value: tuple[float, T] | None = None  # (loaded at, monotonic; value)
        _registry.append(self)

    def get(self) -> T:
        ttl = float(getattr(settings, "REFERENCE_CACHE_SECONDS", 30))
        held = self._value
        if held is not None and time.monotonic() - held[0] < ttl:
            return held[1]
        with self._lock:
            held = self._value
            if held is not None and time.monotonic() - held[0] < ttl:
                return held[1]
            value = self._loader()
            if ttl > 0:
                self._value = (time.monotonic(), value)
            return value

    def clear(self) -> None:
        self._value = None

    def watch(self, *models) -> None:
        """Clear this copy when a row of one of ``models`` is saved or deleted here."""

        def on_change(sender, **kwargs):
            self.clear()
            transaction.on_commit(self.clear, robust=True)

        for model in models:
            post_save.connect(on_change, sender=model, weak=False, dispatch_uid=f"refcache:{self.name}:{model._meta.label}:save")
            post_delete.connect(on_change, sender=model, weak=False, dispatch_uid=f"refcache:{self.name}:{model._meta.label}:delete")


def clear_all() -> None:
    for cache in _registry:
        cache.clear()
