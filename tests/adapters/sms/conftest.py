"""Fixtures: the Aliyun SMS simulator served over real HTTP on 127.0.0.1, mounted
under /sim/sms like in development, with a clock the test moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shebao.adapters.loopback import LoopbackServer
from shebao.adapters.sms.aliyun import AliyunSmsGateway
from shebao.adapters.sms.simulator import make_sms_simulator
from tests.clocks import MovingClock as FakeClock

ACCESS_KEY_ID = "LTAI-test-key"
SECRET = "test-secret-0123456789"
SIGN_NAME = "广西税务"
TEMPLATE_CODE = "SMS_000001"
MOUNT = "/sim/sms"
# 2025-03-03 08:00 in Asia/Shanghai
START = dt.datetime(2025, 3, 3, 0, 0, tzinfo=dt.UTC)


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


@dataclass
class SimHandle:
    url: str  # the simulator's base URL, e.g. http://127.0.0.1:54321/sim/sms
    state_path: Path
    clock: FakeClock

    @property
    def endpoint(self) -> str:
        return self.url + "/"

    def set_mode(self, mode: str, **extra: float) -> None:
        response = httpx.post(self.url + "/_control", json={"mode": mode, **extra}, timeout=5)
        assert response.status_code == 200, response.text


@pytest.fixture
def sim_clock() -> FakeClock:
    return FakeClock(START)


class _Swappable:
    """The one WSGI app the session's server runs; each test plugs in a fresh simulator
    (stopping a stdlib server costs ~0.5 s, so the server lives for the session)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _sim_server() -> Iterator[tuple[LoopbackServer, _Swappable]]:
    target = _Swappable()
    server = LoopbackServer(target).start()
    yield server, target
    server.stop()


@pytest.fixture
def sms_sim(tmp_path: Path, sim_clock: FakeClock, _sim_server) -> Iterator[SimHandle]:
    server, target = _sim_server
    state_path = tmp_path / "sms.sqlite3"
    app = make_sms_simulator(
        state_path,
        access_key_id=ACCESS_KEY_ID,
        secret=SECRET,
        templates={TEMPLATE_CODE: "您的验证码为${code}，5分钟内有效，请勿泄露给他人。"},
        clock=sim_clock,
    )
    target.app = _mounted(app, MOUNT)
    try:
        yield SimHandle(url=server.url + MOUNT, state_path=state_path, clock=sim_clock)
    finally:
        target.app = None


@pytest.fixture
def make_gateway(sms_sim: SimHandle, sim_clock: FakeClock):
    """Build production clients aimed at the simulator; closed after the test."""
    built: list[AliyunSmsGateway] = []

    def make(**overrides) -> AliyunSmsGateway:
        kwargs = {
            "endpoint": sms_sim.endpoint,
            "access_key_id": ACCESS_KEY_ID,
            "access_key_secret": SECRET,
            "sign_name": SIGN_NAME,
            "template_code": TEMPLATE_CODE,
            "timeout": 5.0,
            "clock": sim_clock,
            **overrides,
        }
        gateway = AliyunSmsGateway(**kwargs)
        built.append(gateway)
        return gateway

    yield make
    for gateway in built:
        gateway.close()


@pytest.fixture
def gateway(make_gateway) -> AliyunSmsGateway:
    return make_gateway()
