"""AliyunMobile3MetaCheck (Cloudauth Mobile3MetaDetailVerify) against the loopback
simulator over real HTTP: signing, the md5 parameter type, each outcome, each refusal."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import parse_qsl

import httpx
import pytest

from shebao.adapters.aliyun_rpc import rpc_signature
from shebao.adapters.identity.aliyun import AliyunMobile3MetaCheck, interpret_verify_response, md5_hex
from shebao.adapters.identity.port import IdentityCheckUnavailable, IdentityOutcome, IdentityVerdict, Mismatch
from shebao.adapters.identity.simulator import read_calls
from tests.adapters.identity.conftest import OTHER, OWNER

MOBILE, NAME, ID_NUMBER = OWNER


def _unavailable(check, **overrides) -> IdentityCheckUnavailable:
    args = {"name": NAME, "id_type": "201", "id_number": ID_NUMBER, "mobile": MOBILE, **overrides}
    with pytest.raises(IdentityCheckUnavailable) as caught:
        check.check_mobile(**args)
    return caught.value


def _verdict(check, **overrides) -> IdentityVerdict:
    args = {"name": NAME, "id_type": "201", "id_number": ID_NUMBER, "mobile": MOBILE, **overrides}
    return check.check_mobile(**args)


@pytest.mark.parametrize("param_type", ["md5", "normal"])
def test_consistent_person_passes_and_the_call_is_counted(make_check, identity_sim, param_type):
    verdict = _verdict(make_check(param_type=param_type))

    assert (verdict.outcome, verdict.mismatch, verdict.consistent) == (IdentityOutcome.CONSISTENT, Mismatch.NONE, True)
    calls = read_calls(identity_sim.state_path)
    assert [(c["biz_code"], c["sub_code"], c["request_id"]) for c in calls] == [("1", "101", verdict.provider_ref)]
    assert len(verdict.provider_ref) == 36


def test_lower_case_check_digit_x_is_sent_upper_case(make_check, identity_sim):
    mobile, name, id_number = OTHER
    assert id_number.endswith("X")
    verdict = _verdict(make_check(), name=name, mobile=mobile, id_number=id_number.lower())
    assert verdict.consistent


@pytest.mark.parametrize(
    ("overrides", "mismatch"),
    [
        ({"name": "韦小兰"}, Mismatch.NAME),  # SubCode 203: the ID matches, the name does not
        ({"id_number": OTHER[2]}, Mismatch.ID_NUMBER),  # 202: the name matches, the ID does not
        ({"name": OTHER[1], "id_number": OTHER[2]}, Mismatch.BOTH),  # 201: neither
    ])
@pytest.mark.parametrize("param_type", ["md5", "normal"])
def test_each_inconsistent_case_maps_to_its_mismatch(make_check, identity_sim, overrides, mismatch, param_type):
    verdict = _verdict(make_check(param_type=param_type), **overrides)

    assert (verdict.outcome, verdict.mismatch, verdict.consistent) == (IdentityOutcome.INCONSISTENT, mismatch, False)
    assert [c["biz_code"] for c in read_calls(identity_sim.state_path)] == ["2"]


def test_number_without_real_name_record_is_no_record(check, identity_sim):
    assert identity_sim.put(mobile="17000003333", no_record=True).status_code == 200

    verdict = _verdict(check, mobile="17000003333")

    assert (verdict.outcome, verdict.consistent) == (IdentityOutcome.NO_RECORD, False)
    assert [(c["biz_code"], c["sub_code"]) for c in read_calls(identity_sim.state_path)] == [("3", "301")]


def test_unknown_number_follows_the_unknown_switch(check, identity_sim):
    assert _verdict(check, mobile="13700004444").outcome is IdentityOutcome.CONSISTENT
    assert identity_sim.control(unknown="no_record").status_code == 200
    assert _verdict(check, mobile="13700004444").outcome is IdentityOutcome.NO_RECORD


def test_a_record_put_later_replaces_the_earlier_owner(check, identity_sim):
    assert identity_sim.put(mobile=MOBILE, name=OTHER[1], id_number=OTHER[2]).status_code == 200
    assert _verdict(check).mismatch is Mismatch.BOTH
    assert _verdict(check, name=OTHER[1], id_number=OTHER[2]).consistent


def test_md5_parameter_type_sends_no_plain_personal_data(check):
    """With ParamType=md5 (the default) only the 32-char lower-case MD5 of each value is sent."""
    sent: list[dict[str, str]] = []

    def capture(request: httpx.Request) -> httpx.Response:
        sent.append(dict(parse_qsl(request.content.decode())))
        return httpx.Response(200, json={"Code": "200", "RequestId": "R-1", "ResultObject": {"BizCode": "1", "SubCode": "101"}})

    from shebao.adapters.http import OutgoingHttp

    client = AliyunMobile3MetaCheck(endpoint="https://cloudauth.aliyuncs.com/", access_key_id="k", access_key_secret="s",
                                    timeout=5, http=OutgoingHttp(provider="t", timeout=5, transport=httpx.MockTransport(capture)))
    assert client.check_mobile(name=NAME, id_type="201", id_number=ID_NUMBER, mobile=MOBILE).consistent
    (params,) = sent
    assert params["ParamType"] == "md5"
    assert (params["UserName"], params["IdentifyNum"], params["Mobile"]) == (md5_hex(NAME), md5_hex(ID_NUMBER), md5_hex(MOBILE))
    assert params["Action"] == "Mobile3MetaDetailVerify" and params["Version"] == "2019-03-07"
    assert params["Signature"] == rpc_signature(params, "s", method="POST")
    raw = "&".join(params.values())
    assert NAME not in raw and ID_NUMBER not in raw and MOBILE not in raw


def test_wrong_secret_is_refused_and_not_a_verdict(make_check, identity_sim):
    error = _unavailable(make_check(access_key_secret="not-the-secret"))
    assert (error.code, error.retryable) == ("SignatureDoesNotMatch", False)
    assert read_calls(identity_sim.state_path) == []


def test_unknown_access_key_is_refused(make_check, identity_sim):
    error = _unavailable(make_check(access_key_id="LTAI-other"))
    assert (error.code, error.retryable) == ("InvalidAccessKeyId.NotFound", False)


def test_stale_timestamp_is_refused(make_check, sim_clock):
    error = _unavailable(make_check(clock=lambda: sim_clock() - dt.timedelta(minutes=15, seconds=1)))
    assert error.code == "InvalidTimeStamp.Expired"


def test_replayed_nonce_is_refused(make_check, identity_sim):
    check = make_check(nonce_factory=lambda: "fixed-nonce")
    assert _verdict(check).consistent
    assert _unavailable(check).code == "SignatureNonceUsed"
    assert len(read_calls(identity_sim.state_path)) == 1


@pytest.mark.parametrize(
    ("mode", "code", "retryable"),
    [
        ("unavailable", "ServiceUnavailable", True),
        ("throttled", "Forbidden.ExceptionRepeatedInvoke", True),
        ("not_activated", "Forbidden.AccountAccessDenied", False),
    ])
def test_vendor_refusals_are_unavailable(check, identity_sim, mode, code, retryable):
    assert identity_sim.control(mode=mode).status_code == 200
    error = _unavailable(check)
    assert (error.code, error.retryable) == (code, retryable)
    assert read_calls(identity_sim.state_path) == []


def test_slow_answer_past_the_timeout_is_unavailable(make_check, identity_sim):
    assert identity_sim.control(mode="slow", delay_seconds=1.0).status_code == 200
    error = _unavailable(make_check(timeout=0.2))
    assert (error.code, error.retryable) == ("Timeout", True)


def test_unreachable_vendor_is_unavailable(make_check):
    error = _unavailable(make_check(endpoint="http://127.0.0.1:9/"))
    assert (error.code, error.retryable) == ("Unreachable", True)


def test_document_types_the_carriers_do_not_hold_are_not_sent(check, identity_sim):
    assert [t for t in ("201", "237", "238", "233", "210", "208", "227") if check.supports(t)] == ["201", "237", "238"]
    with pytest.raises(ValueError):
        _verdict(check, id_type="227")
    assert read_calls(identity_sim.state_path) == []


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (200, {"Code": "200", "RequestId": "R", "ResultObject": {"BizCode": "9"}}, "InvalidResponse"),
        (200, {"Code": "200", "RequestId": "R"}, "InvalidResponse"),
        (400, {"Code": "MissingParameter", "Message": "x", "RequestId": "R"}, "MissingParameter"),
        (401, {"Code": "InvalidParameter", "Message": "x", "RequestId": "R"}, "InvalidParameter"),
    ])
def test_unreadable_or_error_answers_are_unavailable(status, body, code):
    with pytest.raises(IdentityCheckUnavailable) as caught:
        interpret_verify_response(httpx.Response(status, json=body))
    assert caught.value.code == code


def test_non_json_gateway_page_is_unavailable_and_retryable():
    with pytest.raises(IdentityCheckUnavailable) as caught:
        interpret_verify_response(httpx.Response(502, text="<html>Bad Gateway</html>"))
    assert (caught.value.code, caught.value.retryable) == ("InvalidResponse", True)


def test_log_lines_hold_no_personal_data(check, caplog):
    with caplog.at_level(logging.INFO, logger="shebao.adapters"):
        _verdict(check, name="韦小兰")
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "inconsistent" in text
    assert NAME not in text and "韦小兰" not in text and ID_NUMBER not in text and MOBILE not in text
