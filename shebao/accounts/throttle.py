"""Password-guess throttling for the citizen login and the mobile change (ASVS v5.0.0-6.3.1).

Counted in ``shebao.common.ratelimit`` (Redis in production, shared by every worker; bounded
by the windows' TTLs, no database rows):

- **per account**: the identifier typed (document number *or* mobile) is resolved to the
  account first, so both count together. ``LOGIN_MAX_FAILURES`` failures within
  ``LOGIN_LOCK_SECONDS`` (moving window) lock the account; the lock lasts until the oldest of
  those failures leaves the window, so a lock no longer hands out a fresh set of guesses the
  moment it ends *within the day*: on top of it ``LOGIN_MAX_FAILURES_PER_DAY`` failures in 24
  hours lock it until the oldest of them is a day old. So at most 5 guesses per 15 minutes and
  15 per day, instead of 5 per identifier every 15 minutes (about 960 a day for ID + mobile).
  A correct password clears the account's counts. The mobile change's password re-check uses
  the same counts (:func:`account_subject`), so a stolen session is no password oracle.
- **per typed identifier that matches no account**: the same two windows on the blind index
  of what was typed, in the same TTL-bounded store, so a made-up identifier locks exactly like
  a real one and the message never tells whether an account exists (docs/architecture.md,
  decision 2). Nothing is written to the database for it.
- **per client address** (``shebao.common.client_ip``): ``LOGIN_IP_FAILURE_LIMIT`` failures,
  whatever identifiers they named, so one address cannot spray guesses over many accounts.

Each attempt consumes one account unit *before* the password is verified (an atomic hit), so
concurrent posts cannot overshoot the account limit; the address is checked first and only
failures are added to it (successful logins from a shared carrier address cost nothing).
"""

from __future__ import annotations

import math

from django.conf import settings

from shebao.common import crypto, ratelimit

LOCKED_MESSAGE = "登录失败次数过多，请{minutes}分钟后再试"


class Locked(Exception):
    """Too many failures: ``str(exc)`` is the Chinese message, ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(LOCKED_MESSAGE.format(minutes=max(1, math.ceil(retry_after / 60))))


def _subject_rules() -> tuple[str, ...]:
    return (
        f"{settings.LOGIN_MAX_FAILURES} per {settings.LOGIN_LOCK_SECONDS} seconds",
        f"{settings.LOGIN_MAX_FAILURES_PER_DAY} per 1 day",
    )


def account_subject(account) -> str:
    return f"account:{account.pk}"


def identifier_subject(identifier: str) -> str:
    return "typed:" + crypto.blind_index(identifier.strip().upper(), purpose="login-identifier")


def _refused(verdicts) -> int:
    return max((v.retry_after for v in verdicts if not v.allowed), default=0)


def attempt_begin(subject: str, address: str | None = None) -> None:
    """Before verifying a password: raise :class:`Locked` if the subject or the address is
    locked; otherwise consume one unit of the subject's windows (refunded by success)."""
    ip = address
    checks = [ratelimit.check(rule, "login", subject) for rule in _subject_rules()]
    if ip:
        checks.append(ratelimit.check(settings.LOGIN_IP_FAILURE_LIMIT, "login-ip", ip))
    if wait := _refused(checks):
        raise Locked(wait)
    if wait := _refused([ratelimit.hit(rule, "login", subject) for rule in _subject_rules()]):
        raise Locked(wait)  # a concurrent attempt took the last unit


def attempt_failed(subject: str, address: str | None = None) -> Locked | None:
    """After a wrong password: count it for the address; the lock it caused, if any."""
    ip = address
    if ip:
        ratelimit.hit(settings.LOGIN_IP_FAILURE_LIMIT, "login-ip", ip)
    wait = _refused([ratelimit.check(rule, "login", subject) for rule in _subject_rules()])
    return Locked(wait) if wait else None


def attempt_succeeded(subject: str) -> None:
    """A correct password: the subject's failures are forgotten (not the address's)."""
    for rule in _subject_rules():
        ratelimit.clear(rule, "login", subject)
