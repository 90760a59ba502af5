"""Rate limits on the ``limits`` library (moving windows), shared by every process through Redis.

One small facade so that the SMS, login and back-office limits all count the same way and
answer the same shape: ``hit()`` consumes one unit and says whether it was allowed and, if not,
in how many seconds it will be (for ``Retry-After`` and for the Chinese message).

Storage is ``RATELIMIT_STORAGE_URL``: Redis in production (``redis://...``, from ``REDIS_URL``),
so every worker and host counts together; without Redis (``make run``, tests) it is the
process's memory, which is exact within one process. Limits are strings in the library's
notation, for example ``"5/hour"`` or ``"10 per 15 minutes"``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from limits import parse, storage, strategies


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until one more unit is allowed (0 when allowed)


_creating = threading.RLock()
_made: dict[str, object] = {}


def _storage():
    """The one storage of this process, made once under a lock: two threads must not make
    two (memory storage would count apart), and the library's lazy check of the redis
    client's version is not thread-safe (seen: "minimum version of 3.0 for 'redis' ... 0.0.0")."""
    if "storage" not in _made:
        with _creating:
            if "storage" not in _made:
                _made["storage"] = storage.storage_from_string(settings.RATELIMIT_STORAGE_URL)
    return _made["storage"]


def _limiter() -> strategies.MovingWindowRateLimiter:
    if "limiter" not in _made:
        with _creating:
            if "limiter" not in _made:
                _made["limiter"] = strategies.MovingWindowRateLimiter(_storage())
    return _made["limiter"]


def _key(scope: str, identifiers: tuple[str, ...]) -> tuple[str, ...]:
    return (settings.RATELIMIT_KEY_PREFIX, scope, *[str(part) for part in identifiers])


def _retry_after(limit, keys: tuple[str, ...]) -> int:
    stats = _limiter().get_window_stats(limit, *keys)
    return max(1, math.ceil(stats.reset_time - time.time()))


def hit(rule: str, scope: str, *identifiers: str) -> Verdict:
    """Consume one unit of ``rule`` for (scope, identifiers); refused units are not counted."""
    limit = parse(rule)
    keys = _key(scope, identifiers)
    if _limiter().hit(limit, *keys):
        return Verdict(True, 0)
    return Verdict(False, _retry_after(limit, keys))


def check(rule: str, scope: str, *identifiers: str) -> Verdict:
    """Whether one more unit would be allowed, consuming nothing."""
    limit = parse(rule)
    keys = _key(scope, identifiers)
    if _limiter().test(limit, *keys):
        return Verdict(True, 0)
    return Verdict(False, _retry_after(limit, keys))


def clear(rule: str, scope: str, *identifiers: str) -> None:
    """Forget the count of (scope, identifiers), e.g. after a successful login."""
    _limiter().clear(parse(rule), *_key(scope, identifiers))


def reset_all() -> None:
    """Forget every count (tests; memory storage only, or a Redis prefix of its own)."""
    _storage().reset()
