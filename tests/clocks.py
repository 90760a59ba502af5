"""A clock the test moves: aware UTC "now", shared by services, clients and simulators."""

from __future__ import annotations

import datetime as dt


class MovingClock:
    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now
