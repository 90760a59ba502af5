"""Fixtures: the bank simulator served over real HTTP on 127.0.0.1, mounted under /sim/bank
as in development, with a clock the test moves, and production clients aimed at it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shebao.adapters.bank.port import AgreementCheck, BankAccount, VerifyMethod
from shebao.adapters.bank.sim_store import read_store
from shebao.adapters.bank.simulator import demo_account_no, make_bank_simulator
from shebao.adapters.bank.tips import TipsBankGateway
from shebao.adapters.loopback import LoopbackServer
from tests.clocks import MovingClock

START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Guangxi
TODAY = dt.date(2026, 3, 2)
TAX_ORG = "14500000000"
ICBC = "102611000017"  # CNAPS code: bank class 102
CCB = "105611000019"
OWNER = BankAccount(bank_code=ICBC, account_no=demo_account_no(1), account_name="韦小梅")
POOR = BankAccount(bank_code=ICBC, account_no=demo_account_no(2), account_name="黄大海")
CLOSED = BankAccount(bank_code=CCB, account_no="6217003200000000012", account_name="韦小梅")
# (number, bank class, holder's name, balance in fen[, state]) at the start
ACCOUNTS = [(OWNER.account_no, "102", "韦小梅", 100_000), (POOR.account_no, "102", "黄大海", 500), (CLOSED.account_no, "105", "韦小梅", 0, "closed")]


@dataclass
class BankSim:
    url: str  # e.g. http://127.0.0.1:54321/sim/bank
    state_path: Path
    clock: MovingClock

    def control(self, **switches) -> httpx.Response:
        return httpx.post(self.url + "/_control", json=switches, timeout=5)

    def put_account(self, **account) -> httpx.Response:
        return httpx.post(self.url + "/_accounts", json=account, timeout=5)

    def balance_fen(self, account_no: str) -> int:
        response = httpx.get(self.url + "/_accounts", params={"account_no": account_no}, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()["balance_fen"]

    def rows(self, table: str) -> list[dict]:
        return read_store(self.state_path, table)

    def counter(self, **form) -> httpx.Response:
        return httpx.post(self.url + "/counter", data=form, timeout=5)


class _Swappable:
    """The one WSGI app the session's server runs; each test plugs in a fresh simulator."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def _bank_server() -> Iterator[tuple[LoopbackServer, _Swappable]]:
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
        environ = {**environ, "SCRIPT_NAME": prefix, "PATH_INFO": path[len(prefix):] or "/"}
        return app(environ, start_response)

    return mounted


@pytest.fixture
def sim_clock() -> MovingClock:
    return MovingClock(START)


@pytest.fixture
def bank_sim(tmp_path: Path, sim_clock: MovingClock, _bank_server) -> Iterator[BankSim]:
    """A fresh simulator per test, with the ``ACCOUNTS`` open."""
    server, target = _bank_server
    state_path = tmp_path / "bank.sqlite3"
    target.app = _mounted(make_bank_simulator(state_path, clock=sim_clock, accounts=ACCOUNTS), "/sim/bank")
    try:
        yield BankSim(url=server.url + "/sim/bank", state_path=state_path, clock=sim_clock)
    finally:
        target.app = None


@pytest.fixture
def make_gateway(bank_sim: BankSim, sim_clock: MovingClock):
    """Production clients aimed at the simulator; closed after the test."""
    built: list[TipsBankGateway] = []

    def make(**overrides) -> TipsBankGateway:
        kwargs = {"base_url": bank_sim.url, "timeout": 5.0, "src_node": "TAXGX0000001", "des_node": "TIPS00000001",
                  "payee_bank_no": "011611000018", "payee_org_code": "4500000000", "payee_account": "4500000000000000",
                  "payee_name": "国家金库广西壮族自治区分库", "clock": sim_clock, **overrides}
        client = TipsBankGateway(**kwargs)
        built.append(client)
        return client

    yield make
    for client in built:
        client.close()


@pytest.fixture
def gateway(make_gateway) -> TipsBankGateway:
    return make_gateway()


def agreement(account: BankAccount = OWNER, *, no: str = "GX2026030200000001", method: VerifyMethod = VerifyMethod.ELECTRONIC,
              payer_name: str = "韦小梅") -> AgreementCheck:
    return AgreementCheck(agreement_no=no, tax_org_code=TAX_ORG, payer_code="P450103198808083020", payer_name=payer_name,
                          account=account, method=method)
