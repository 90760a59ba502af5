"""interpret_send_response: Dysmsapi answers the simulator does not produce, mapped to the port."""

from __future__ import annotations

import httpx
import pytest

from shebao.adapters.sms.aliyun import interpret_send_response
from shebao.adapters.sms.port import SmsError, SmsRateLimited, SmsResult


def _answer(status: int, body: dict | None = None, text: str = "") -> httpx.Response:
    return httpx.Response(status, json=body) if body is not None else httpx.Response(status, text=text)


def test_ok_gives_the_biz_id():
    assert interpret_send_response(_answer(200, {"Code": "OK", "Message": "OK", "BizId": "9006^0"})) == SmsResult("9006^0")


@pytest.mark.parametrize(
    ("status", "body", "kind", "code", "retryable"),
    [
        (200, {"Code": "isv.DAY_LIMIT_CONTROL", "Message": "触发日发送限额"}, SmsRateLimited, "isv.DAY_LIMIT_CONTROL", False),
        (
            200,
            {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控Permits:10"},
            SmsRateLimited,
            "isv.BUSINESS_LIMIT_CONTROL",
            False,
        ),
        (200, {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "签名不合法"}, SmsError, "isv.SMS_SIGNATURE_ILLEGAL", False),
        (200, {"Code": "isp.RAM_PERMISSION_DENY", "Message": "RAM权限DENY"}, SmsError, "isp.RAM_PERMISSION_DENY", False),
        (
            400,
            {"Code": "Throttling.User", "Message": "Request was denied due to user flow control."},
            SmsError,
            "Throttling.User",
            True,
        ),
        (500, {"Code": "InternalError", "Message": "The request processing has failed."}, SmsError, "InternalError", True),
        (502, {"Message": "bad gateway"}, SmsError, "HTTP502", True),
        (200, {"Code": "OK", "Message": "OK"}, SmsError, "InvalidResponse", True),
        (200, None, SmsError, "InvalidResponse", True),
        (404, None, SmsError, "InvalidResponse", False),
        (503, None, SmsError, "InvalidResponse", True),
    ])
def test_errors_are_split_into_rate_limited_retryable_and_final(status, body, kind, code, retryable):
    with pytest.raises(SmsError) as caught:
        interpret_send_response(_answer(status, body, text="<html>not json</html>"))

    assert (type(caught.value), caught.value.code, caught.value.retryable) == (kind, code, retryable)


@pytest.mark.parametrize(
    ("code", "message", "window"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", "minute"),
        ("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5", "hour"),
        ("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10", "day"),
        ("isv.BUSINESS_LIMIT_CONTROL", "业务限流", ""),
        ("isv.DAY_LIMIT_CONTROL", "触发日发送限额", "account_day"),
    ])
def test_flow_control_refusal_names_its_window(code, message, window):
    """The service tells the person which limit and when; the window comes from Aliyun's message."""
    with pytest.raises(SmsRateLimited) as caught:
        interpret_send_response(_answer(200, {"Code": code, "Message": message}))

    assert caught.value.window == window
