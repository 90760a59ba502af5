"""Real-time deduction (TIPS 1001 → 2001) and its query (9130) between the production
client and the bank simulator over loopback: every answer, idempotency by key, the
timeout switch."""

from __future__ import annotations

import dataclasses
import threading

import httpx
import pytest

from shebao.adapters.bank.port import (
    BankAccount,
    BankRequestRefused,
    BankUnavailable,
    DeductionNotFound,
    DeductionState,
    FailReason,
)
from shebao.adapters.bank.tips import TipsBankGateway
from shebao.adapters.http import OutgoingHttp
from tests.adapters.bank.conftest import CLOSED, ICBC, OWNER, POOR, TAX_ORG, TODAY, agreement

NO = "GX2026030200000001"


def deduct(gateway: TipsBankGateway, *, key: str = "K0001", account: BankAccount = OWNER, amount_fen: int = 35_000,
           agreement_no: str = NO, payer_name: str = "韦小梅"):
    return gateway.deduct(idempotency_key=key, agreement_no=agreement_no, account=account, amount_fen=amount_fen, on=TODAY,
                          tax_org_code=TAX_ORG, payer_code="P450103198808083020", payer_name=payer_name)


@pytest.fixture
def signed(gateway):
    """OWNER's and POOR's agreements made usable by an electronic check."""
    assert gateway.verify_agreement(agreement(), on=TODAY).passed
    assert gateway.verify_agreement(agreement(POOR, no="GX2026030200000009", payer_name="黄大海"), on=TODAY).passed


def test_a_deduction_takes_the_amount_and_answers_the_banks_serial(gateway, bank_sim, signed):
    result = deduct(gateway)

    assert (result.idempotency_key, result.state, result.amount_fen, result.reason, result.bank_words) == (
        "K0001", DeductionState.SUCCEEDED, 35_000, None, "扣款成功")
    assert result.succeeded
    assert result.settled_on == TODAY
    assert len(result.bank_ref) == 20 and result.bank_ref.startswith("20260302")
    assert bank_sim.balance_fen(OWNER.account_no) == 65_000


def test_the_same_key_twice_deducts_once_and_answers_the_same(gateway, bank_sim, signed):
    first = deduct(gateway)
    second = deduct(gateway)

    assert second == first
    assert bank_sim.balance_fen(OWNER.account_no) == 65_000
    assert len(bank_sim.rows("deductions")) == 1


def test_the_same_key_with_another_amount_is_refused_and_nothing_moves(gateway, bank_sim, signed):
    deduct(gateway)

    with pytest.raises(BankRequestRefused) as refused:
        deduct(gateway, amount_fen=1)

    assert (refused.value.code, refused.value.retryable) == ("94010", False)
    assert bank_sim.balance_fen(OWNER.account_no) == 65_000
    assert [row["amount_fen"] for row in bank_sim.rows("deductions")] == [35_000]


def test_a_balance_below_the_amount_fails_and_a_repeat_gives_the_same_failure(gateway, bank_sim, signed):
    first = deduct(gateway, key="K0002", account=POOR, agreement_no="GX2026030200000009", payer_name="黄大海")
    bank_sim.put_account(account_no=POOR.account_no, bank_class="102", name="黄大海", balance_fen=100_000)
    again = deduct(gateway, key="K0002", account=POOR, agreement_no="GX2026030200000009", payer_name="黄大海")

    assert (first.state, first.reason, first.bank_ref, first.bank_words) == (DeductionState.FAILED, FailReason.INSUFFICIENT_BALANCE,
                                                                             "", "余额不足")
    assert first.reason_text == "银行账户余额不足，请存入足够金额后再扣款"
    assert again == first
    assert bank_sim.balance_fen(POOR.account_no) == 100_000


@pytest.mark.parametrize(("account", "reason"), [
    (BankAccount(bank_code=ICBC, account_no=OWNER.account_no, account_name="韦小美"), FailReason.NAME_MISMATCH),
    (BankAccount(bank_code=ICBC, account_no="6222024500000099999", account_name="韦小梅"), FailReason.ACCOUNT_NOT_FOUND),
    (CLOSED, FailReason.ACCOUNT_CLOSED),
])
def test_account_problems_fail_with_their_reason_and_move_nothing(gateway, bank_sim, signed, account, reason):
    result = deduct(gateway, account=account)

    assert (result.state, result.reason, result.amount_fen) == (DeductionState.FAILED, reason, 35_000)
    assert bank_sim.balance_fen(OWNER.account_no) == 100_000


def test_no_usable_agreement_for_the_account_fails(gateway, bank_sim, signed):
    unknown = deduct(gateway, key="K0003", agreement_no="GX2099")
    other_account = deduct(gateway, key="K0004", agreement_no="GX2026030200000009")

    assert (unknown.state, unknown.reason) == (DeductionState.FAILED, FailReason.AGREEMENT_NOT_FOUND)
    assert (other_account.state, other_account.reason) == (DeductionState.FAILED, FailReason.AGREEMENT_NOT_FOUND)
    assert bank_sim.balance_fen(OWNER.account_no) == 100_000


def test_a_query_answers_what_the_deduction_got(gateway, signed):
    done = deduct(gateway)

    assert gateway.deduct_query("K0001") == done


def test_a_query_of_a_key_the_bank_never_saw_is_not_found(gateway, bank_sim):
    with pytest.raises(DeductionNotFound) as missing:
        gateway.deduct_query("K9999")

    assert (missing.value.code, missing.value.retryable) == ("94040", False)
    assert bank_sim.rows("deductions") == []


def test_a_timeout_leaves_the_outcome_unknown_and_the_query_finds_it_done_once(make_gateway, bank_sim, signed):
    impatient = make_gateway(timeout=0.5)
    assert bank_sim.control(mode="timeout", delay_seconds=3).status_code == 200

    with pytest.raises(BankUnavailable) as timed_out:
        deduct(impatient)
    bank_sim.control(mode="ok")
    found = impatient.deduct_query("K0001")
    repeated = deduct(impatient)

    assert (timed_out.value.code, timed_out.value.retryable) == ("timeout", True)
    assert (found.state, found.amount_fen) == (DeductionState.SUCCEEDED, 35_000)
    assert repeated == found
    assert bank_sim.balance_fen(OWNER.account_no) == 65_000


@pytest.mark.parametrize(("mode", "code"), [("unavailable", "HTTP503"), ("busy", "94999")])
def test_an_unavailable_or_busy_bank_is_retryable_and_does_nothing(gateway, bank_sim, signed, mode, code):
    bank_sim.control(mode=mode)

    with pytest.raises(BankUnavailable) as unavailable:
        deduct(gateway)

    assert (unavailable.value.code, unavailable.value.retryable) == (code, True)
    assert bank_sim.rows("deductions") == []
    assert bank_sim.balance_fen(OWNER.account_no) == 100_000


def test_bad_fields_are_refused_before_anything_is_sent(gateway, bank_sim):
    with pytest.raises(ValueError, match="idempotency_key"):
        deduct(gateway, key="K-1")
    with pytest.raises(ValueError, match="positive"):
        deduct(gateway, amount_fen=0)
    with pytest.raises(BankRequestRefused) as bad_code:
        deduct(gateway, account=dataclasses.replace(OWNER, bank_code="102"))

    assert bad_code.value.code == "BAD_BANK_CODE"
    assert bank_sim.rows("deductions") == []


def test_an_unreachable_bank_is_retryable(make_gateway):
    offline = make_gateway(base_url="http://127.0.0.1:9/sim/bank", timeout=2)

    with pytest.raises(BankUnavailable) as unreachable:
        offline.deduct_query("K0001")

    assert (unreachable.value.code, unreachable.value.retryable) == ("unreachable", True)


def test_eight_concurrent_sends_of_one_key_deduct_once(gateway, bank_sim, signed):
    results: list = []

    def send() -> None:
        results.append(deduct(gateway))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 8
    assert len({(r.state, r.bank_ref) for r in results}) == 1
    assert bank_sim.balance_fen(OWNER.account_no) == 65_000
    assert len(bank_sim.rows("deductions")) == 1


@pytest.mark.parametrize(("status", "error", "retryable"), [(404, BankRequestRefused, False), (403, BankRequestRefused, False),
                                                             (429, BankUnavailable, True), (502, BankUnavailable, True)])
def test_http_refusals_of_the_bank_front(status, error, retryable):
    http = OutgoingHttp(provider="tips", timeout=5, transport=httpx.MockTransport(lambda request: httpx.Response(status)))
    client = TipsBankGateway(base_url="http://bank.test", timeout=5, src_node="S", des_node="D", payee_bank_no="011611000018",
                             payee_org_code="4500000000", payee_account="1", payee_name="国库", http=http)

    with pytest.raises(error) as refused:
        deduct(client)

    assert (refused.value.code, refused.value.retryable) == (f"HTTP{status}", retryable)
