"""Argon2 with a cap on the hashes in flight per process, and a cheap variant for tests.

One argon2 check costs about 100 MiB and 200 ms; a flood of concurrent login posts would
otherwise run them all at once and exhaust the server's memory and CPU (32 concurrent posts
took a median 2.7 s). At most ``PASSWORD_CHECKS_IN_FLIGHT`` hashes (verify or encode) run at
a time in one process; a request that cannot get a slot within
``PASSWORD_CHECK_WAIT_SECONDS`` raises :class:`PasswordChecksBusy`, which
``shebao.common.middleware.PasswordChecksBusyMiddleware`` answers with 429 and Retry-After.
Every password check goes through the hasher, so the citizen login, the mobile change and the
back-office login are all capped. A slot is reentrant per thread (Django re-encodes a hash
that needs upgrading right after verifying it; that must not take a second slot).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class PasswordChecksBusy(Exception):
    """Every password-check slot of this process is taken: answer 429, try again shortly."""


_semaphores: dict[int, threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()
_held = threading.local()


def password_check_semaphore() -> threading.BoundedSemaphore:
    """This process's semaphore for the configured cap (tests hold it to fill every slot)."""
    cap = max(1, int(settings.PASSWORD_CHECKS_IN_FLIGHT))
    with _semaphores_lock:
        return _semaphores.setdefault(cap, threading.BoundedSemaphore(cap))


@contextmanager
def password_check_slot():
    """Hold one slot while hashing; raise PasswordChecksBusy if none frees up in time."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    semaphore = password_check_semaphore()
    wait = float(settings.PASSWORD_CHECK_WAIT_SECONDS)
    if not (semaphore.acquire(timeout=wait) if wait > 0 else semaphore.acquire(blocking=False)):
        raise PasswordChecksBusy
    _held.depth = 1
    try:
        yield
    finally:
        _held.depth = 0
        semaphore.release()


class CappedArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's argon2 (same algorithm name, same hashes) inside a password-check slot."""

    def encode(self, password, salt):
        with password_check_slot():
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with password_check_slot():
            return super().verify(password, encoded)


class FastArgon2PasswordHasher(CappedArgon2PasswordHasher):
    """Argon2 with a small cost, for the test profile only (keeps the suite fast)."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1
