"""Actors for tests (shebao.common.actor): services are called with one, as every door does."""

from __future__ import annotations

import datetime as dt

from shebao.common.actor import Actor, AuthMethod, Door

TEST_ADDRESS = "127.0.0.1"


def citizen(account, *, step_up_at: dt.datetime | int | None = None, door: Door = Door.WEB, address: str | None = TEST_ADDRESS,
            session_key: str | None = None) -> Actor:
    """A signed-in payer; ``step_up_at`` as a datetime or epoch seconds (the session's marker)."""
    if isinstance(step_up_at, int):
        step_up_at = dt.datetime.fromtimestamp(step_up_at, tz=dt.UTC)
    return Actor.citizen(account, door=door, client_address=address, auth_method=AuthMethod.PASSWORD_SMS, step_up_at=step_up_at,
                         session_key=session_key)


def staff(account, *, address: str | None = TEST_ADDRESS) -> Actor:
    return Actor.staff(account, client_address=address, auth_method=AuthMethod.STAFF_PASSWORD)


def visitor(*, address: str | None = TEST_ADDRESS, door: Door = Door.WEB) -> Actor:
    return Actor.anonymous(door=door, client_address=address)


def system(job: str = "test") -> Actor:
    return Actor.system(job)
