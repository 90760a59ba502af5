"""CFX messages: built and read back, amounts in yuan text without floats, XML with a DTD,
entities or external references refused on both sides of the wire."""

from __future__ import annotations

import httpx
import pytest

from shebao.adapters.bank import cfx
from shebao.adapters.bank.port import BankUnavailable, FailReason
from shebao.adapters.bank.tips import TipsBankGateway, reason_of_words
from shebao.adapters.http import OutgoingHttp
from tests.adapters.bank.conftest import TODAY, agreement

XXE = (b'<?xml version="1.0"?><!DOCTYPE CFX [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
       b"<CFX><HEAD><MsgNo>9130</MsgNo><MsgID>1</MsgID></HEAD><MSG><TraQuery9130><OriTraNo>&leak;</OriTraNo></TraQuery9130>"
       b"</MSG></CFX>")
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE CFX [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                  b"<CFX><HEAD><MsgNo>9130</MsgNo><MsgID>&b;</MsgID></HEAD><MSG/></CFX>")


def test_a_message_reads_back_as_built():
    data = cfx.build(head={"MsgNo": "9130", "MsgID": "20260302abc"}, parts={"TraQuery9130": {"OriTraNo": "K1"}})

    message = cfx.parse(data)

    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<CFX><HEAD><VER>1.0</VER><APP>TIPS</APP><MsgNo>9130</MsgNo>")
    assert message.head == {"VER": "1.0", "APP": "TIPS", "MsgNo": "9130", "MsgID": "20260302abc"}
    assert message.parts == {"TraQuery9130": {"OriTraNo": "K1"}}


@pytest.mark.parametrize("data", [XXE, BILLION_LAUGHS], ids=["external-entity", "entity-expansion"])
def test_xml_with_a_dtd_or_entities_is_refused_unread(data):
    with pytest.raises(cfx.CfxMalformed, match="DTDForbidden"):
        cfx.parse(data)


@pytest.mark.parametrize("data", [b"", b"not xml", b"<CFX><HEAD/></CFX>", b"<X><HEAD/><MSG/></X>",
                                  b"<CFX><HEAD><MsgNo>1001</MsgNo></HEAD><MSG/></CFX>", b"<CFX>" + b" " * cfx.MAX_BYTES + b"</CFX>"])
def test_anything_else_than_a_cfx_message_is_refused(data):
    with pytest.raises(cfx.CfxMalformed):
        cfx.parse(data)


@pytest.mark.parametrize(("fen", "text"), [(0, "0.00"), (5, "0.05"), (35_000, "350.00"), (123_456_789, "1234567.89")])
def test_amounts_go_as_yuan_text_and_come_back_exact(fen, text):
    assert cfx.yuan_text(fen) == text
    assert cfx.fen_of(text) == fen


@pytest.mark.parametrize("text", ["", "1.234", "-1.00", "1e3", "１.00", "1,00"])
def test_an_amount_that_is_not_one_is_refused(text):
    with pytest.raises(cfx.CfxMalformed):
        cfx.fen_of(text)


def test_the_simulator_refuses_xml_with_an_external_entity_and_does_nothing(bank_sim):
    response = httpx.post(bank_sim.url + "/cfx", content=XXE, headers={"Content-Type": "application/xml"}, timeout=5)

    answer = cfx.parse(response.content)
    assert (response.status_code, answer.msg_no) == (200, "9120")
    assert answer.part("ErrInfo9120")["Result"] == "94020"
    assert "root:" not in response.text
    assert bank_sim.rows("deductions") == []


def test_the_client_refuses_an_answer_with_an_external_entity():
    def bank(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=XXE, headers={"Content-Type": "application/xml"})

    http = OutgoingHttp(provider="tips", timeout=5, transport=httpx.MockTransport(bank))
    client = TipsBankGateway(base_url="http://bank.test", timeout=5, src_node="S", des_node="D", payee_bank_no="011611000018",
                             payee_org_code="4500000000", payee_account="1", payee_name="国库", http=http)

    with pytest.raises(BankUnavailable) as refused:
        client.verify_agreement(agreement(), on=TODAY)

    assert (refused.value.code, refused.value.retryable) == ("BAD_ANSWER", True)


def test_an_answer_to_another_message_is_not_taken():
    def bank(request: httpx.Request) -> httpx.Response:
        other = cfx.build(head={"MsgNo": "2001", "MsgID": "X", "MsgRef": "someone-else"},
                          parts={"RealHead2001": {"OriTraNo": "K1"}, "TraRes2001": {"Result": "90000", "TraAmt": "1.00"}})
        return httpx.Response(200, content=other)

    http = OutgoingHttp(provider="tips", timeout=5, transport=httpx.MockTransport(bank))
    client = TipsBankGateway(base_url="http://bank.test", timeout=5, src_node="S", des_node="D", payee_bank_no="011611000018",
                             payee_org_code="4500000000", payee_account="1", payee_name="国库", http=http)

    with pytest.raises(BankUnavailable) as mismatched:
        client.deduct_query("K1")

    assert mismatched.value.code == "MISMATCHED_ANSWER"


@pytest.mark.parametrize(("words", "reason"), [
    ("账户名称不符", FailReason.NAME_MISMATCH), ("户名与账号不一致", FailReason.NAME_MISMATCH),
    ("账户已销户", FailReason.ACCOUNT_CLOSED), ("账户冻结", FailReason.ACCOUNT_CLOSED),
    ("账号不存在", FailReason.ACCOUNT_NOT_FOUND), ("无此账户", FailReason.ACCOUNT_NOT_FOUND),
    ("协议不存在或信息有误", FailReason.AGREEMENT_NOT_FOUND), ("系统异常", FailReason.OTHER),
])
def test_the_banks_words_in_a_9115_become_our_reasons(words, reason):
    assert reason_of_words(words) is reason
