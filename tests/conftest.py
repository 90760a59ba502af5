"""Shared fixtures: the external-system simulators as real servers on loopback,
with the service's settings pointed at them, and demo reference data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from shebao.adapters.loopback import LoopbackServer
from tests.clocks import MovingClock as Clock


@pytest.fixture(autouse=True)
def _fresh_reference_copies():
    """A rolled-back test transaction sends no signal: start every test with empty
    per-process copies of the reference tables (shebao.common.refcache)."""
    from shebao.common.refcache import clear_all

    clear_all()
    yield
    clear_all()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with no rate-limit counts (shebao.common.ratelimit, memory storage)."""
    from shebao.common.ratelimit import reset_all

    reset_all()
    yield


@pytest.fixture(autouse=True)
def _own_seal_head_dir(tmp_path, settings):
    """Each test exports signed heads to its own directory, so verify never reads heads
    that another test's (rolled-back) database exported."""
    settings.SEAL_HEAD_EXPORT_DIR = tmp_path / "seal-heads"


@dataclass
class Simulators:
    url: str
    state_dir: Path

    def last_code(self, mobile: str) -> str | None:
        """The newest code the gateway delivered to ``mobile``, once the queued SMS are sent."""
        from shebao.adapters.sms.simulator import latest_code
        from tests.jobs.inline import send_queued_sms

        send_queued_sms()
        return latest_code(self.state_dir / "sms.sqlite3", mobile)

    def control(self, system: str, **switches) -> None:
        """Flip a simulator's fault switches (POST /sim/<system>/_control)."""
        import httpx

        response = httpx.post(f"{self.url}/sim/{system}/_control", json=switches, timeout=5)
        assert response.status_code in (200, 204), response.text

    def carrier_record(self, mobile: str, name: str = "", id_number: str = "", *, no_record: bool = False) -> None:
        """Put the identity simulator's carrier record of ``mobile``: its real-name owner,
        or (``no_record``) the fact that the carriers hold none (POST /sim/identity/_subscribers)."""
        import httpx

        body = {"mobile": mobile, "no_record": True} if no_record else {"mobile": mobile, "name": name, "id_number": id_number}
        response = httpx.post(f"{self.url}/sim/identity/_subscribers", json=body, timeout=5)
        assert response.status_code == 200, response.text

    def bank_counter(self, **form: str):
        """A bank clerk enters a paper three-party agreement on the bank simulator's counter
        page (POST /sim/bank/counter): tax_org_code, protocol_no, payer_code, payer_name,
        bank_code (12 digits), account_no, account_name. The page's response."""
        import httpx

        return httpx.post(f"{self.url}/sim/bank/counter", data=form, timeout=5)

    def bank_account(self, account_no: str, *, bank_class: str = "102", name: str, balance_fen: int, status: str = "normal") -> None:
        """Open (or replace) an account at the bank simulator (POST /sim/bank/_accounts)."""
        import httpx

        body = {"account_no": account_no, "bank_class": bank_class, "name": name, "balance_fen": balance_fen, "status": status}
        response = httpx.post(f"{self.url}/sim/bank/_accounts", json=body, timeout=5)
        assert response.status_code == 200, response.text

    def bank_rows(self, table: str) -> list[dict]:
        """The bank simulator's ``accounts``, ``agreements``, ``deductions`` or ``checks``."""
        from shebao.adapters.bank.sim_store import read_store

        return read_store(self.state_dir / "bank.sqlite3", table)

    def identity_calls(self) -> list[dict]:
        """The verdicts the identity simulator gave, oldest first (no values sent, only codes)."""
        from shebao.adapters.identity.simulator import read_calls

        return read_calls(self.state_dir / "identity.sqlite3")

    def messages(self, mobile: str | None = None) -> list[dict]:
        """What the gateway delivered (to ``mobile``), once the queued SMS are sent."""
        from shebao.adapters.sms.simulator import read_outbox
        from tests.jobs.inline import send_queued_sms

        send_queued_sms()
        return read_outbox(self.state_dir / "sms.sqlite3", phone=mobile)


@pytest.fixture
def sims(request, tmp_path, settings):
    """SMS, WeChat, WeChat Pay, identity-check and bank simulators mounted under /sim/ on a fresh loopback port
    (sharing the test's clock when the test uses the ``clock`` fixture)."""
    from django.core.wsgi import get_wsgi_application

    from shebao.adapters.simulators import SimulatorDispatcher

    state_dir = tmp_path / "sim"
    sim_clock = request.getfixturevalue("clock") if "clock" in request.fixturenames else None
    # Everything that is not a simulator path goes to our own app, so channel
    # notifications reach /api/... (tests that rely on them use transactional db).
    server = LoopbackServer(SimulatorDispatcher(get_wsgi_application(), state_dir=state_dir, clock=sim_clock)).start()
    settings.SELF_URL = server.url
    settings.SMS = {**settings.SMS, "ENDPOINT": f"{server.url}/sim/sms/"}
    settings.IDENTITY_CHECK = {**settings.IDENTITY_CHECK, "ENDPOINT": f"{server.url}/sim/identity/"}
    settings.BANK = {**settings.BANK, "BASE_URL": f"{server.url}/sim/bank"}
    settings.WECHAT = {**settings.WECHAT, "OPEN_BASE": f"{server.url}/sim/wechat/open", "API_BASE": f"{server.url}/sim/wechat/api"}
    settings.PAYMENT = {"WECHATPAY": {**settings.PAYMENT["WECHATPAY"], "BASE_URL": f"{server.url}/sim/wxpay",
                                      "NOTIFY_URL": f"{server.url}/api/pay/wechatpay/notify",
                                      "REFUND_NOTIFY_URL": f"{server.url}/api/pay/wechatpay/refund-notify", "CASHIER_URL": f"{server.url}/sim/wxpay/cashier"}}
    try:
        yield Simulators(url=server.url, state_dir=state_dir)
    finally:
        server.stop()


@pytest.fixture
def reference_data(db):
    from django.core.management import call_command

    call_command("seed_demo", "--no-people", stdout=open("/dev/null", "w"))


@pytest.fixture
def demo_people(db):
    """The demo people without the refund cases' paid history (tests count receipts)."""
    from django.core.management import call_command

    call_command("seed_demo", "--no-history", stdout=open("/dev/null", "w"))


@pytest.fixture
def refund_demo(db):
    """All of the demo data: the people and every refund case (paid history, a supplementary
    declaration, refund sheets, virtual accounts, the no-refund list)."""
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # idempotent: a second run adds nothing


@pytest.fixture
def clock(monkeypatch):
    """Freeze shebao.common.clock at 2026-03-02 10:00 Asia/Shanghai."""
    from shebao.common import clock as clock_module

    c = Clock(dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(clock_module, "now", c)
    return c
