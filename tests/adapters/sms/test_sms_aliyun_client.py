"""AliyunSmsGateway against the loopback simulator over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import httpx
import pytest

from shebao.adapters.sms.port import SmsError, SmsRateLimited, SmsResult
from shebao.adapters.sms.sim_auth import v1_signature
from shebao.adapters.sms.simulator import latest_code, read_outbox

PHONE = "13800138000"
SIGN_NAME, TEMPLATE_CODE = "广西税务", "SMS_000001"  # as configured in conftest.py
START = dt.datetime(2025, 3, 3, 0, 0, tzinfo=dt.UTC)  # the simulator clock's start: 08:00 in Shanghai
TEXT = "【广西税务】您的验证码为123456，5分钟内有效，请勿泄露给他人。"


def _error(gateway, phone=PHONE, code="123456", request_id="req-2") -> SmsError:
    with pytest.raises(SmsError) as caught:
        gateway.send_code(mobile=phone, code=code, request_id=request_id)
    return caught.value


def test_send_code_is_delivered_to_the_outbox(gateway, sms_sim):
    result = gateway.send_code(mobile=PHONE, code="123456", request_id="req-1")

    assert isinstance(result, SmsResult)
    outbox = read_outbox(sms_sim.state_path)
    assert outbox == [
        {
            "biz_id": result.provider_ref,
            "phone": PHONE,
            "sign_name": SIGN_NAME,
            "template_code": TEMPLATE_CODE,
            "params": {"code": "123456"},
            "text": TEXT,
            "out_id": "req-1",
            "sent_at": START,
        }
    ]
    assert result.provider_ref.endswith("^0") and len(result.provider_ref) == 20
    assert latest_code(sms_sim.state_path, PHONE) == "123456"


def test_wrong_secret_is_refused_as_signature_does_not_match(make_gateway, sms_sim):
    error = _error(make_gateway(access_key_secret="not-the-secret"))

    assert (error.code, error.retryable, type(error)) == ("SignatureDoesNotMatch", False, SmsError)
    assert read_outbox(sms_sim.state_path) == []


def test_unknown_access_key_is_refused(make_gateway, sms_sim):
    error = _error(make_gateway(access_key_id="LTAI-other"))

    assert (error.code, error.retryable) == ("InvalidAccessKeyId.NotFound", False)
    assert read_outbox(sms_sim.state_path) == []


def test_timestamp_more_than_15_minutes_off_is_expired(make_gateway, sms_sim, sim_clock):
    late_clock = lambda: sim_clock() - dt.timedelta(minutes=15, seconds=1)  # noqa: E731
    error = _error(make_gateway(clock=late_clock))

    assert (error.code, error.retryable) == ("InvalidTimeStamp.Expired", False)
    assert read_outbox(sms_sim.state_path) == []


def test_replayed_signature_nonce_is_refused(make_gateway, sms_sim, sim_clock):
    gateway = make_gateway(nonce_factory=lambda: "fixed-nonce-1")
    first = gateway.send_code(mobile=PHONE, code="111111", request_id="req-1")
    sim_clock.advance(seconds=61)  # past the per-minute flow control

    error = _error(gateway, code="222222")

    assert (error.code, error.retryable) == ("SignatureNonceUsed", False)
    assert [m["biz_id"] for m in read_outbox(sms_sim.state_path)] == [first.provider_ref]


def test_second_code_within_a_minute_is_rate_limited(gateway, sms_sim, sim_clock):
    gateway.send_code(mobile=PHONE, code="111111", request_id="req-1")
    sim_clock.advance(seconds=59)

    error = _error(gateway, code="222222")

    assert type(error) is SmsRateLimited
    assert (error.code, error.retryable, str(error)) == (
        "isv.BUSINESS_LIMIT_CONTROL",
        False,
        "isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控Permits:1",
    )
    assert [m["params"]["code"] for m in read_outbox(sms_sim.state_path)] == ["111111"]
    sim_clock.advance(seconds=2)
    gateway.send_code(mobile=PHONE, code="333333", request_id="req-3")
    assert latest_code(sms_sim.state_path, PHONE) == "333333"


def test_other_numbers_are_not_limited_by_one_numbers_flow_control(gateway, sms_sim):
    gateway.send_code(mobile=PHONE, code="111111", request_id="req-1")
    gateway.send_code(mobile="13900139000", code="222222", request_id="req-2")

    assert [(m["phone"], m["params"]["code"]) for m in read_outbox(sms_sim.state_path)] == [
        ("13900139000", "222222"),
        (PHONE, "111111"),
    ]


def test_sixth_code_within_an_hour_is_rate_limited(gateway, sms_sim, sim_clock):
    for i in range(5):
        gateway.send_code(mobile=PHONE, code=f"10000{i}", request_id=f"req-{i}")
        sim_clock.advance(seconds=61)

    error = _error(gateway)

    assert type(error) is SmsRateLimited
    assert str(error) == "isv.BUSINESS_LIMIT_CONTROL: 触发小时级流控Permits:5"
    assert len(read_outbox(sms_sim.state_path)) == 5


def test_eleventh_code_of_the_day_is_rate_limited_until_the_next_shanghai_day(gateway, sms_sim, sim_clock):
    for i in range(10):  # 08:00, 08:20, ... 11:00 Shanghai: 3 per hour
        gateway.send_code(mobile=PHONE, code=f"2000{i:02d}", request_id=f"req-{i}")
        sim_clock.advance(minutes=20)

    error = _error(gateway, code="999999")

    assert type(error) is SmsRateLimited
    assert str(error) == "isv.BUSINESS_LIMIT_CONTROL: 触发天级流控Permits:10"
    assert len(read_outbox(sms_sim.state_path, limit=50)) == 10
    sim_clock.now = dt.datetime(2025, 3, 3, 16, 0, tzinfo=dt.UTC)  # 00:00 on 4 March in Shanghai
    gateway.send_code(mobile=PHONE, code="999999", request_id="req-next-day")
    assert latest_code(sms_sim.state_path, PHONE) == "999999"


@pytest.mark.parametrize("phone", ["12345678901", "1380013800", "138001380001", "23800138000", "1380013800a"])
def test_invalid_mobile_number_is_a_final_error(gateway, sms_sim, phone):
    error = _error(gateway, phone=phone)

    assert (type(error), error.code, error.retryable) == (SmsError, "isv.MOBILE_NUMBER_ILLEGAL", False)
    assert read_outbox(sms_sim.state_path) == []


def test_plus86_prefix_is_accepted_and_stored_as_the_bare_number(gateway, sms_sim):
    gateway.send_code(mobile="+8613800138000", code="123456", request_id="req-1")

    assert [m["phone"] for m in read_outbox(sms_sim.state_path)] == [PHONE]


def test_template_param_with_a_non_string_value_is_refused(gateway, sms_sim):
    headers, body = gateway.signed_request(
        "SendSms",
        {
            "PhoneNumbers": PHONE,
            "SignName": SIGN_NAME,
            "TemplateCode": TEMPLATE_CODE,
            "TemplateParam": json.dumps({"code": 123456}),
        },
    )
    response = httpx.post(sms_sim.endpoint, content=body, headers=headers, timeout=5)

    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("Code", "Message")} == {
        "Code": "isv.INVALID_JSON_PARAM",
        "Message": "JSON参数不合法，只接受字符串值",
    }
    assert read_outbox(sms_sim.state_path) == []


def test_legacy_signature_v1_get_request_is_still_accepted_like_aliyun(sms_sim):
    """The simulator still speaks RPC signature v1 (the legacy SDK's, see test_vendor_sdks_aliyun),
    here as a GET with the parameters in the query string."""
    params = {
        "Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "AccessKeyId": "LTAI-test-key",
        "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": "nonce-v1-get",
        "Timestamp": "2025-03-03T00:00:00Z", "RegionId": "cn-hangzhou",
        "PhoneNumbers": PHONE, "SignName": SIGN_NAME, "TemplateCode": TEMPLATE_CODE, "TemplateParam": '{"code":"654321"}',
    }
    params["Signature"] = v1_signature("GET", params, "test-secret-0123456789")
    response = httpx.get(sms_sim.endpoint, params=params, timeout=5)

    assert (response.status_code, response.json()["Code"]) == (200, "OK")
    assert latest_code(sms_sim.state_path, PHONE) == "654321"


def test_the_client_signs_with_signature_v3(gateway, sms_sim):
    """Alibaba Cloud's current scheme (ACS3-HMAC-SHA256 in the Authorization header, SHA-256
    of the form body), no v1 parameters in sight; the phone number is in the body, not the URL."""
    headers, body = gateway.signed_request("SendSms", {"PhoneNumbers": PHONE, "TemplateParam": '{"code":"1"}'})

    assert headers["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI-test-key,SignedHeaders="
                                               "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                                               "x-acs-signature-nonce;x-acs-version,Signature=")
    assert body == b"PhoneNumbers=13800138000&TemplateParam=%7B%22code%22%3A%221%22%7D"
    assert (headers["x-acs-action"], headers["x-acs-version"], headers["x-acs-date"]) == ("SendSms", "2017-05-25", "2025-03-03T00:00:00Z")
    assert headers["host"] == httpx.URL(sms_sim.endpoint).netloc.decode()


def test_a_wrong_secret_is_answered_like_aliyun(sms_sim):
    """HTTP 400 JSON with RequestId, HostId, Code, Message (ending in the server's string to
    sign after a ':' — the legacy SDK reads it) and Recommend."""
    from shebao.adapters.sms.aliyun import AliyunSmsGateway

    gateway = AliyunSmsGateway(endpoint=sms_sim.endpoint, access_key_id="LTAI-test-key", access_key_secret="wrong",
                               sign_name=SIGN_NAME, template_code=TEMPLATE_CODE, timeout=5, clock=sms_sim.clock)
    headers, body = gateway.signed_request("SendSms", {"PhoneNumbers": PHONE})
    response = httpx.post(sms_sim.endpoint, content=body, headers=headers, timeout=5)

    answer = response.json()
    assert (response.status_code, set(answer)) == (400, {"RequestId", "HostId", "Code", "Message", "Recommend"})
    assert answer["Code"] == "SignatureDoesNotMatch" and answer["HostId"] == headers["host"]
    prefix, _, server_string = answer["Message"].partition(":")
    assert prefix == "Specified signature does not match our calculation. server string to sign is"
    assert server_string.startswith("ACS3-HMAC-SHA256\n") and len(server_string) == len("ACS3-HMAC-SHA256\n") + 64
    assert answer["Recommend"] == f"https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch&product=Dysmsapi&requestId={answer['RequestId']}"


def test_system_error_mode_is_retryable(gateway, sms_sim):
    sms_sim.set_mode("system_error")

    error = _error(gateway)

    assert (type(error), error.code, error.retryable) == (SmsError, "isp.SYSTEM_ERROR", True)
    assert read_outbox(sms_sim.state_path) == []


def test_http_503_is_retryable(gateway, sms_sim):
    sms_sim.set_mode("unavailable")

    error = _error(gateway)

    assert (error.code, error.retryable) == ("ServiceUnavailable", True)
    assert read_outbox(sms_sim.state_path) == []


def test_back_to_ok_mode_sends_again(gateway, sms_sim):
    sms_sim.set_mode("system_error")
    _error(gateway)
    sms_sim.set_mode("ok")

    gateway.send_code(mobile=PHONE, code="123456", request_id="req-1")

    assert latest_code(sms_sim.state_path, PHONE) == "123456"


def test_timeout_is_retryable_and_the_message_may_still_arrive(make_gateway, sms_sim):
    sms_sim.set_mode("slow", delay_seconds=1.0)

    error = _error(make_gateway(timeout=0.2), request_id="req-slow")

    assert (type(error), error.code, error.retryable) == (SmsError, "Timeout", True)
    deadline = time.monotonic() + 5
    while not read_outbox(sms_sim.state_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    # SendSms has no idempotency: a timed-out request can still be delivered.
    assert [m["out_id"] for m in read_outbox(sms_sim.state_path)] == ["req-slow"]


def test_unreachable_gateway_is_retryable(make_gateway):
    error = _error(make_gateway(endpoint="http://127.0.0.1:9/"))

    assert (error.code, error.retryable) == ("Unreachable", True)


def test_logs_carry_masked_phone_and_timing_but_never_the_number_or_code(gateway, caplog):
    caplog.set_level(logging.INFO, logger="shebao.adapters")

    result = gateway.send_code(mobile=PHONE, code="123456", request_id="req-log")

    http_record, sent_record = caplog.records  # httpx's own URL line is silenced
    assert (http_record.provider, http_record.http_method, http_record.http_path, http_record.status) == (
        "aliyun-sms",
        "POST",
        "/sim/sms/",
        200,
    )
    assert isinstance(http_record.duration_ms, int) and http_record.outgoing_request_id == "req-log"
    assert (sent_record.mobile_masked, sent_record.provider_ref, sent_record.levelname) == (
        "138****8000",
        result.provider_ref,
        "INFO",
    )
    for record in caplog.records:
        dumped = record.getMessage() + json.dumps({k: str(v) for k, v in vars(record).items()}, ensure_ascii=False)
        assert PHONE not in dumped and "123456" not in dumped


def test_refusals_are_logged_as_warnings_with_the_code(gateway, sms_sim, caplog):
    caplog.set_level(logging.INFO, logger="shebao.adapters")

    _error(gateway, phone="12345678901")

    assert [(r.levelname, getattr(r, "sms_code", None)) for r in caplog.records] == [
        ("INFO", None),
        ("WARNING", "isv.MOBILE_NUMBER_ILLEGAL"),
    ]
    assert caplog.records[1].mobile_masked == "123****8901"


def test_concurrent_sends_through_two_server_processes_let_exactly_one_through(make_gateway, sms_sim, sim_clock):
    """Two simulator instances (own locks, like two gunicorn workers) share one state file:
    the per-minute rule must still let exactly one of many simultaneous requests through."""
    from concurrent.futures import ThreadPoolExecutor

    from shebao.adapters.loopback import LoopbackServer
    from shebao.adapters.sms.simulator import make_sms_simulator

    twin = make_sms_simulator(
        sms_sim.state_path,
        access_key_id="LTAI-test-key",
        secret="test-secret-0123456789",
        templates={TEMPLATE_CODE: "您的验证码为${code}，5分钟内有效，请勿泄露给他人。"},
        clock=sim_clock,
    )
    twin_server = LoopbackServer(twin).start()
    gateways = [make_gateway(), make_gateway(endpoint=twin_server.url + "/")]

    def attempt(i: int) -> str:
        try:
            gateways[i % 2].send_code(mobile=PHONE, code=f"{i:06d}", request_id=f"req-{i}")
            return "OK"
        except SmsRateLimited as exc:
            return exc.code

    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            outcomes = sorted(pool.map(attempt, range(12)))
    finally:
        twin_server.stop()

    assert outcomes == ["OK"] + ["isv.BUSINESS_LIMIT_CONTROL"] * 11
    assert len(read_outbox(sms_sim.state_path)) == 1
