"""Agreement verification (TIPS 9114 → 9115) between the production client and the bank
simulator over loopback: every answer, both ways of signing."""

from __future__ import annotations

from shebao.adapters.bank.port import BankAccount, FailReason, VerifyMethod
from tests.adapters.bank.conftest import CLOSED, ICBC, OWNER, POOR, TAX_ORG, TODAY, agreement


def test_an_electronic_check_of_a_matching_account_passes_and_makes_the_agreement_usable(gateway, bank_sim):
    verdict = gateway.verify_agreement(agreement(), on=TODAY)

    assert (verdict.passed, verdict.reason, verdict.reason_text, verdict.bank_words) == (True, None, "", "协议已可以使用")
    assert len(verdict.check_no) == 16
    [record] = bank_sim.rows("agreements")
    assert (record["protocol_no"], record["account_no"], record["source"], record["status"]) == (
        "GX2026030200000001", OWNER.account_no, "electronic", "active")
    [check] = bank_sim.rows("checks")
    assert (check["vc_no"], check["vc_sign"], check["vc_result"]) == (verdict.check_no, "0", "0")


def test_another_name_than_the_holders_fails_as_a_name_mismatch(gateway, bank_sim):
    wrong = BankAccount(bank_code=ICBC, account_no=OWNER.account_no, account_name="韦小美")

    verdict = gateway.verify_agreement(agreement(wrong), on=TODAY)

    assert (verdict.passed, verdict.reason, verdict.bank_words) == (False, FailReason.NAME_MISMATCH, "账户名称不符")
    assert verdict.reason_text == "账户名称与银行预留的户名不一致，请核对后重新填写"
    assert bank_sim.rows("agreements") == []


def test_an_unknown_account_fails_as_not_found(gateway, bank_sim):
    verdict = gateway.verify_agreement(agreement(BankAccount(bank_code=ICBC, account_no="6222024500000099999", account_name="韦小梅")),
                                       on=TODAY)

    assert (verdict.passed, verdict.reason, verdict.bank_words) == (False, FailReason.ACCOUNT_NOT_FOUND, "账号不存在")
    assert bank_sim.rows("agreements") == []


def test_an_account_of_another_bank_is_not_found_at_this_one(gateway, bank_sim):
    at_ccb = BankAccount(bank_code="105611000019", account_no=OWNER.account_no, account_name="韦小梅")

    verdict = gateway.verify_agreement(agreement(at_ccb), on=TODAY)

    assert (verdict.passed, verdict.reason) == (False, FailReason.ACCOUNT_NOT_FOUND)


def test_a_closed_account_fails_as_closed(gateway, bank_sim):
    verdict = gateway.verify_agreement(agreement(CLOSED), on=TODAY)

    assert (verdict.passed, verdict.reason, verdict.bank_words) == (False, FailReason.ACCOUNT_CLOSED, "账户已销户")
    assert verdict.reason_text == "该银行账户已销户或不可用，请更换其他账户"


def test_a_paper_agreement_fails_until_the_counter_entered_it_then_passes(gateway, bank_sim):
    paper = agreement(method=VerifyMethod.PAPER, no="GX2026030200000002")

    before = gateway.verify_agreement(paper, on=TODAY)
    page = bank_sim.counter(tax_org_code=TAX_ORG, protocol_no="GX2026030200000002", payer_code="P450103198808083020",
                            payer_name="韦小梅", bank_code=ICBC, account_no=OWNER.account_no, account_name="韦小梅")
    after = gateway.verify_agreement(paper, on=TODAY)

    assert (before.passed, before.reason, before.bank_words) == (False, FailReason.AGREEMENT_NOT_FOUND, "协议不存在或未在柜面录入")
    assert page.status_code == 200
    assert "已录入协议 GX2026030200000002" in page.text
    assert (after.passed, after.reason) == (True, None)
    assert [check["vc_result"] for check in bank_sim.rows("checks")] == ["1", "0"]


def test_a_paper_check_for_another_account_than_the_counter_entered_fails(gateway, bank_sim):
    bank_sim.counter(tax_org_code=TAX_ORG, protocol_no="GX2026030200000003", payer_code="P1", payer_name="韦小梅",
                     bank_code=ICBC, account_no=OWNER.account_no, account_name="韦小梅")

    verdict = gateway.verify_agreement(agreement(POOR, method=VerifyMethod.PAPER, no="GX2026030200000003", payer_name="黄大海"),
                                       on=TODAY)

    assert (verdict.passed, verdict.reason) == (False, FailReason.AGREEMENT_NOT_FOUND)


def test_an_agreement_number_already_used_for_another_account_fails(gateway, bank_sim):
    gateway.verify_agreement(agreement(), on=TODAY)

    verdict = gateway.verify_agreement(agreement(POOR, payer_name="黄大海"), on=TODAY)

    assert (verdict.passed, verdict.reason, verdict.bank_words) == (False, FailReason.AGREEMENT_NOT_FOUND, "协议书号已用于其他账户")
    [record] = bank_sim.rows("agreements")
    assert record["account_no"] == OWNER.account_no
