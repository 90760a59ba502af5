"""Fixtures: the Aliyun Cloudauth simulator served over real HTTP on 127.0.0.1, mounted
under /sim/identity like in development, with a clock the test moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shebao.adapters.identity.aliyun import AliyunMobile3MetaCheck
from shebao.adapters.identity.simulator import make_identity_simulator
from shebao.adapters.loopback import LoopbackServer
from shebao.common.idgen import make_resident_id
from tests.clocks import MovingClock

ACCESS_KEY_ID = "LTAI-test-key"
SECRET = "test-secret-0123456789"
START = dt.datetime(2025, 3, 3, 0, 0, tzinfo=dt.UTC)
# The carrier's records at the start: (mobile, name, ID number); synthetic, checksum-valid IDs.
OWNER = ("13900001111", "韦小梅", make_resident_id(division_code="450103", birth=dt.date(1988, 8, 8), seq=302))
OTHER = ("18600002222", "黄大海", make_resident_id(division_code="450103", birth=dt.date(1980, 1, 1), seq=301))


@dataclass
class IdentitySim:
    url: str  # e.g. http://127.0.0.1:54321/sim/identity
    state_path: Path
    clock: MovingClock

    @property
    def endpoint(self) -> str:
        return self.url + "/"

    def control(self, **switches) -> httpx.Response:
        return httpx.post(self.url + "/_control", json=switches, timeout=5)

    def put(self, **record) -> httpx.Response:
        return httpx.post(self.url + "/_subscribers", json=record, timeout=5)


class _Swappable:
    """The one WSGI app the session's server runs; each test plugs in a fresh simulator."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _sim_server() -> Iterator[tuple[LoopbackServer, _Swappable]]:
    target = _Swappable()
    server = LoopbackServer(target).start()
    yield server, target
    server.stop()


def _mounted(app, prefix: str):
    """Serve ``app`` under ``prefix`` as shebao.adapters.simulators does (SCRIPT_NAME/PATH_INFO)."""

    def mounted(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path != prefix and not path.startswith(prefix + "/"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not mounted"]
        environ = {**environ, "SCRIPT_NAME": prefix, "PATH_INFO": path[len(prefix) :] or "/"}
        return app(environ, start_response)

    return mounted


@pytest.fixture
def sim_clock() -> MovingClock:
    return MovingClock(START)


@pytest.fixture
def identity_sim(tmp_path: Path, sim_clock: MovingClock, _sim_server) -> Iterator[IdentitySim]:
    """A fresh simulator per test, with OWNER and OTHER on file."""
    server, target = _sim_server
    state_path = tmp_path / "identity.sqlite3"
    app = make_identity_simulator(state_path, access_key_id=ACCESS_KEY_ID, secret=SECRET, clock=sim_clock, subscribers=[OWNER, OTHER])
    target.app = _mounted(app, "/sim/identity")
    try:
        yield IdentitySim(url=server.url + "/sim/identity", state_path=state_path, clock=sim_clock)
    finally:
        target.app = None


@pytest.fixture
def make_check(identity_sim: IdentitySim, sim_clock: MovingClock):
    """Production clients aimed at the simulator; closed after the test."""
    built: list[AliyunMobile3MetaCheck] = []

    def make(**overrides) -> AliyunMobile3MetaCheck:
        kwargs = {
            "endpoint": identity_sim.endpoint,
            "access_key_id": ACCESS_KEY_ID,
            "access_key_secret": SECRET,
            "timeout": 5.0,
            "clock": sim_clock,
            **overrides,
        }
        client = AliyunMobile3MetaCheck(**kwargs)
        built.append(client)
        return client

    yield make
    for client in built:
        client.close()


@pytest.fixture
def check(make_check) -> AliyunMobile3MetaCheck:
    return make_check()
