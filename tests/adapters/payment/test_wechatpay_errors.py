"""Error mapping of the WeChat Pay client (interfaces.md §4.3): retryable versus final,
answers that fail verification, and what never reaches the logs."""

from __future__ import annotations

import json
import logging
import socket
import time

import httpx
import pytest

from shebao.adapters.payment.keys import generate_dev_keys
from shebao.adapters.payment.port import NotificationRejected, OrderAlreadyPaid, PaymentError

NO = "SB202611270000000001"


def _error(call) -> PaymentError:
    with pytest.raises(PaymentError) as caught:
        call()
    return caught.value


def test_system_error_is_retryable_and_changes_nothing(channel, make_bill, wxpay_sim):
    wxpay_sim.control(api="system_error")

    error = _error(lambda: channel.create(make_bill()))

    assert (error.code, error.retryable, error.http_status) == ("SYSTEM_ERROR", True, 500)
    wxpay_sim.control(api="ok")
    assert _error(lambda: channel.query(NO)).code == "ORDER_NOT_EXIST"


def test_timeout_is_retryable_and_the_outcome_is_unknown(make_channel, make_bill, wxpay_sim):
    channel = make_channel(timeout=0.3)
    wxpay_sim.control(api="slow", delay_seconds=0.8)

    error = _error(lambda: channel.create(make_bill()))

    assert (error.code, error.retryable, error.http_status) == ("TIMEOUT", True, None)
    wxpay_sim.control(api="ok")
    time.sleep(0.8)
    assert channel.query(NO).state == "NOTPAY"  # the order was created after all: query, never a new out_trade_no


def test_unreachable_is_retryable(make_channel):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = make_channel(base_url=f"http://127.0.0.1:{port}/sim/wxpay")

    error = _error(lambda: channel.query(NO))

    assert (error.code, error.retryable) == ("UNREACHABLE", True)


def test_answer_with_a_bad_signature_is_not_believed(channel, make_bill, wxpay_sim):
    wxpay_sim.control(api="bad_response_signature")

    error = _error(lambda: channel.create(make_bill()))

    assert (error.code, error.retryable, error.http_status) == ("RESPONSE_SIGNATURE_INVALID", False, 200)
    assert _error(lambda: channel.close(NO)).code == "RESPONSE_SIGNATURE_INVALID"


def test_answers_signed_by_another_key_or_serial_are_not_believed(make_channel, make_bill, dev_keys):
    other = generate_dev_keys()
    wrong_key = make_channel(platform_public_key_pem=other["WECHATPAY_PLATFORM_PUBLIC_KEY"])
    wrong_serial = make_channel(platform_public_key_id="PUB_KEY_ID_0999999999999999999999")

    assert _error(lambda: wrong_key.create(make_bill())).code == "RESPONSE_SIGNATURE_INVALID"
    assert _error(lambda: wrong_serial.query(NO)).code == "RESPONSE_SIGNATURE_INVALID"


def test_wrong_merchant_key_is_sign_error(make_channel, make_bill):
    other = generate_dev_keys()
    channel = make_channel(merchant_private_key_pem=other["WECHATPAY_MERCHANT_PRIVATE_KEY"])

    error = _error(lambda: channel.create(make_bill()))

    assert (error.code, error.retryable, error.http_status) == ("SIGN_ERROR", False, 401)


def test_wrong_merchant_serial_is_sign_error(make_channel):
    error = _error(lambda: make_channel(merchant_serial_no="0" * 40).query(NO))

    assert (error.code, error.retryable, error.http_status) == ("SIGN_ERROR", False, 401)


def _gateway(status: int, body: bytes = b"<html>bad gateway</html>"):
    return httpx.MockTransport(lambda request: httpx.Response(status, content=body))


@pytest.mark.parametrize(("status", "retryable"), [(502, True), (503, True), (429, True), (400, False), (404, False)])
def test_unsigned_error_answers_keep_their_status_but_not_their_body(make_channel, status, retryable):
    body = json.dumps({"code": "ORDERPAID", "message": "订单已支付"}).encode()
    channel = make_channel(transport=_gateway(status, body))

    error = _error(lambda: channel.close(NO))

    assert not isinstance(error, OrderAlreadyPaid)  # an unsigned business code is never believed
    assert (error.code, error.retryable, error.http_status) == (f"HTTP_{status}", retryable, status)


def test_unsigned_success_is_not_believed(make_channel, make_bill):
    channel = make_channel(transport=_gateway(200, b'{"prepay_id":"wx_forged"}'))

    assert _error(lambda: channel.create(make_bill())).code == "RESPONSE_SIGNATURE_INVALID"


def test_client_configuration_is_checked(make_channel):
    with pytest.raises(ValueError, match="notify_url"):
        make_channel(notify_url="https://pay.example.cn/notify?channel=wechat")
    with pytest.raises(ValueError, match="APIv3"):
        make_channel(apiv3_key="too-short")
    assert "PRIVATE" not in repr(make_channel())


def test_logs_hold_no_keys_signatures_or_openid(channel, pay, make_bill, receiver, dev_keys, caplog):
    caplog.set_level(logging.DEBUG)
    bill = make_bill()
    launch = pay(bill)
    [delivery] = receiver.wait_for(1)
    channel.parse_notification(delivery.headers, delivery.body)
    channel.query(NO)
    with pytest.raises(NotificationRejected):
        channel.parse_notification({**delivery.headers, "Wechatpay-Signature": "AAAA"}, delivery.body)
    with pytest.raises(PaymentError):
        channel.close(NO)

    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "wechatpay order created" in logged
    forbidden = [bill.payer_openid, launch.params["paySign"], delivery.headers["Wechatpay-Signature"], dev_keys["WECHATPAY_APIV3_KEY"],
                 "PRIVATE KEY", "Authorization", "WECHATPAY2-SHA256-RSA2048 mchid"]
    assert [secret for secret in forbidden if secret in logged] == []
