"""The bank simulator's own pages and switches, its mount under /sim/bank in development
with the demo people's accounts, and the configured client (get_bank_gateway)."""

from __future__ import annotations

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from shebao.adapters.bank import get_bank_gateway
from shebao.adapters.bank.port import BankAccount
from shebao.adapters.bank.simulator import demo_account_no
from shebao.adapters.bank.tips import TipsBankGateway
from shebao.adapters.loopback import LoopbackServer
from shebao.adapters.simulators import SimulatorDispatcher
from shebao.core.demo_data import DEMO_PEOPLE
from shebao.reference.banks import luhn_ok
from tests.adapters.bank.conftest import CLOSED, ICBC, OWNER, TAX_ORG, TODAY, agreement

COUNTER_FORM = {"tax_org_code": TAX_ORG, "protocol_no": "GX2026030200000005", "payer_code": "P1", "payer_name": "韦小梅",
                "bank_code": ICBC, "account_no": OWNER.account_no, "account_name": "韦小梅"}


def test_the_counter_page_is_a_form_under_a_strict_policy(bank_sim):
    page = httpx.get(bank_sim.url + "/counter", timeout=5)

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"].startswith("default-src 'none'; style-src 'sha256-")
    assert '<form method="post" action="/sim/bank/counter">' in page.text
    assert page.text.count("<input ") == 7
    assert "<script" not in page.text


@pytest.mark.parametrize(("change", "message"), [
    ({"account_name": "韦小美"}, "账户名称与本行记录不符"),
    ({"account_no": "6222024500000099999"}, "本行无此账号"),
    ({"account_no": CLOSED.account_no, "bank_code": CLOSED.bank_code}, "该账户已销户，不能签约"),
    ({"bank_code": "102"}, "付款行行号应为12位数字"),
    ({"protocol_no": ""}, "请填写征收机关代码"),
    ({"payer_name": ""}, "请填写缴费人编码和缴费人名称"),
])
def test_the_counter_refuses_what_the_bank_would_not_sign_and_records_nothing(bank_sim, change, message):
    page = bank_sim.counter(**{**COUNTER_FORM, **change})

    assert page.status_code == 400
    assert f"未录入：{message}" in page.text
    assert bank_sim.rows("agreements") == []


def test_a_counter_entry_escapes_what_the_clerk_typed(bank_sim):
    bank_sim.counter(**{**COUNTER_FORM, "protocol_no": "<b>GX1</b>"})

    page = httpx.get(bank_sim.url + "/counter", timeout=5)
    assert "&lt;b&gt;GX1&lt;/b&gt;" in page.text
    assert "<b>GX1" not in page.text


def test_the_control_switch_takes_known_modes_only(bank_sim):
    refused = bank_sim.control(mode="explode")
    unknown_key = bank_sim.control(mode="ok", surprise=1)
    accepted = bank_sim.control(mode="timeout", delay_seconds=2)

    assert (refused.status_code, unknown_key.status_code) == (400, 400)
    assert accepted.json() == {"mode": "timeout", "delay_seconds": 2}
    assert httpx.get(bank_sim.url + "/_control", timeout=5).json() == {"mode": "timeout", "delay_seconds": 2}


def test_accounts_can_be_put_and_read_back(bank_sim):
    put = bank_sim.put_account(account_no="6216600000000000007", bank_class="104", name="陆小龙", balance_fen=1)
    bad = bank_sim.put_account(account_no="12ab", bank_class="104", name="陆小龙")
    missing = httpx.get(bank_sim.url + "/_accounts", params={"account_no": "1"}, timeout=5)

    assert put.status_code == 200
    assert bad.status_code == 400
    assert missing.status_code == 404
    assert bank_sim.balance_fen("6216600000000000007") == 1


def test_development_mounts_the_bank_with_the_demo_peoples_accounts(tmp_path, settings):
    def not_ours(environ, start_response):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"django"]

    server = LoopbackServer(SimulatorDispatcher(not_ours, state_dir=tmp_path / "sim")).start()
    try:
        settings.BANK = {**settings.BANK, "BASE_URL": f"{server.url}/sim/bank"}
        name = DEMO_PEOPLE[0][0]
        verdict = get_bank_gateway().verify_agreement(
            agreement(BankAccount(bank_code=ICBC, account_no=demo_account_no(1), account_name=name), payer_name=name), on=TODAY)
        account = httpx.get(f"{server.url}/sim/bank/_accounts", params={"account_no": demo_account_no(1)}, timeout=5).json()
    finally:
        server.stop()

    assert verdict.passed
    assert account == {"account_no": demo_account_no(1), "bank_class": "102", "name": name, "balance_fen": 2_000_000,
                       "status": "normal"}
    assert (tmp_path / "sim" / "bank.sqlite3").exists()


def test_demo_account_numbers_are_luhn_valid_debit_cards():
    numbers = [demo_account_no(i) for i in range(1, len(DEMO_PEOPLE) + 1)]

    assert all(len(n) == 19 and n.startswith("62") and luhn_ok(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)


def test_the_configured_gateway_is_the_tips_client(settings):
    settings.BANK = {**settings.BANK, "BASE_URL": "http://127.0.0.1:1/sim/bank"}

    assert isinstance(get_bank_gateway(), TipsBankGateway)
    assert get_bank_gateway() is get_bank_gateway()


@pytest.mark.parametrize(("change", "message"), [({"PROVIDER": "swift"}, "unknown bank gateway"),
                                                 ({"BASE_URL": ""}, "missing BASE_URL")])
def test_a_misconfigured_gateway_says_what_is_wrong(settings, change, message):
    settings.BANK = {**settings.BANK, **change}

    with pytest.raises(ImproperlyConfigured, match=message):
        get_bank_gateway()
