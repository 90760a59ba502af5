"""The WeChat Pay simulator on its own: the cashier page (no JavaScript, strict CSP),
its refusals, and the API checks a buggy client would hit (401 SIGN_ERROR, 400 PARAM_ERROR),
with requests signed by hand here."""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


@pytest.fixture
def raw(wxpay_sim, dev_keys, clock):
    """Send a request to the simulator signed by hand with the merchant key."""

    def send(method: str, path: str, body: dict | None = None, *, timestamp: int | None = None,
             sign_mount: bool = False) -> httpx.Response:
        content = json.dumps(body).encode() if body is not None else b""
        url = httpx.URL(wxpay_sim.url + path)
        stamp, nonce = timestamp if timestamp is not None else int(clock.now.timestamp()), "N" * 32
        key = serialization.load_pem_private_key(dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"].encode(), password=None)
        # The path as a client of the mount sees it (its base URL is …/sim/wxpay), unless told otherwise.
        signed = url.raw_path.decode() if sign_mount else url.raw_path.decode().removeprefix("/sim/wxpay")
        message = f"{method}\n{signed}\n{stamp}\n{nonce}\n".encode() + content + b"\n"
        signature = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
        authorization = (f'WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="{nonce}",signature="{signature}",'
                         f'timestamp="{stamp}",serial_no="{dev_keys["WECHATPAY_MERCHANT_SERIAL_NO"]}"')
        return httpx.request(method, url, content=content, headers={"Authorization": authorization,
                                                                     "Content-Type": "application/json"}, timeout=5)

    return send


def _order(**changes) -> dict:
    return {"appid": "wx_sim_12366", "mchid": "1900000109", "description": "城乡居民基本医疗保险费", "out_trade_no": "SB_RAW_000001",
            "time_expire": "2026-11-27T10:30:00+08:00", "notify_url": "http://127.0.0.1:9/pay/notify/wechatpay",
            "amount": {"total": 38000, "currency": "CNY"}, "payer": {"openid": "oX"}, **changes}


def _verify_platform_signature(response: httpx.Response, dev_keys) -> None:
    key = serialization.load_pem_public_key(dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY"].encode())
    message = f"{response.headers['Wechatpay-Timestamp']}\n{response.headers['Wechatpay-Nonce']}\n".encode() + response.content + b"\n"
    key.verify(base64.b64decode(response.headers["Wechatpay-Signature"]), message, padding.PKCS1v15(), hashes.SHA256())


def test_cashier_page(channel, make_bill, browser, receiver):
    launch = channel.create(make_bill())

    page = browser.open(launch.cashier_url)

    assert page.status_code == 200
    assert browser.page.title == "微信支付（模拟）"
    assert browser.page.scripts == 0 and "<script" not in page.text and " on" not in page.text.split("<main>")[1]
    assert list(browser.page.buttons) == ["确认支付", "支付失败", "取消"]
    assert "¥380.00" in page.text and "城乡居民基本医疗保险费 2027年度" in page.text and "税务局" in page.text
    assert 'name="viewport"' in page.text
    csp = page.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-")
    assert f"form-action 'self' {receiver.url};" in csp
    assert (page.headers["Cache-Control"], page.headers["X-Content-Type-Options"]) == ("no-store", "nosniff")


@pytest.mark.parametrize("return_url", ["javascript:alert(1)", "https://evil.example/", "//evil.example/x", "data:text/html,x"])
def test_cashier_refuses_foreign_or_non_http_return_urls(channel, make_bill, browser, return_url):
    launch = channel.create(make_bill(return_url=return_url))

    page = browser.open(launch.cashier_url)

    assert page.status_code == 400 and "return_url 参数错误" in page.text
    assert browser.page.buttons == {}
    answer = browser.http.post(httpx.URL(launch.cashier_url).copy_with(query=None),
                               data={"prepay_id": launch.params["package"][10:], "return_url": return_url, "action": "pay"})
    assert answer.status_code == 400 and "location" not in answer.headers
    assert channel.query("SB202611270000000001").state == "NOTPAY"


def test_cashier_refuses_unknown_and_expired_prepay_ids(channel, make_bill, browser, wxpay_sim, clock):
    assert browser.open(wxpay_sim.url + "/cashier?prepay_id=wx_unknown").status_code == 404
    launch = channel.create(make_bill(expire_at=clock.now + dt.timedelta(hours=3)))
    clock.advance(hours=2)

    page = browser.open(launch.cashier_url)

    assert page.status_code == 404 and "已过期" in page.text and browser.page.buttons == {}


def test_cashier_without_return_url_shows_the_result(channel, make_bill, browser):
    launch = channel.create(make_bill(return_url=None))

    answer = browser.press(launch.cashier_url, "取消")

    assert answer.status_code == 200 and "已取消支付" in answer.text


def test_paid_order_page_has_no_buttons(channel, pay, make_bill, browser):
    launch = pay(make_bill())

    page = browser.open(launch.cashier_url)

    assert "该订单已支付" in page.text and browser.page.buttons == {}


def test_requests_without_a_valid_signature_are_sign_error(wxpay_sim, raw, dev_keys, clock):
    unsigned = httpx.post(wxpay_sim.url + "/v3/pay/transactions/jsapi", json=_order(), timeout=5)
    stale = raw("POST", "/v3/pay/transactions/jsapi", _order(), timestamp=int(clock.now.timestamp()) - 300)

    for response in (unsigned, stale):
        assert response.status_code == 401
        assert response.json()["code"] == "SIGN_ERROR"
        _verify_platform_signature(response, dev_keys)
    assert raw("GET", "/v3/pay/transactions/out-trade-no/SB_RAW_000001?mchid=1900000109").status_code == 404


def test_signature_covers_the_path_relative_to_the_mount(raw):
    """Clients sign ``/v3/...`` (the path under their base URL, as at api.mch.weixin.qq.com):
    that is accepted; a signature over the mount's own ``/sim/wxpay/v3/...`` is not what any
    client sends to WeChat Pay, so it is refused."""
    path = "/v3/pay/transactions/out-trade-no/SB_RAW_000001?mchid=1900000109"

    assert raw("GET", path).json()["code"] == "ORDER_NOT_EXIST"
    refused = raw("GET", path, sign_mount=True)
    assert (refused.status_code, refused.json()["code"]) == (401, "SIGN_ERROR")


def test_good_raw_order_then_query_with_encoded_path(raw, dev_keys):
    created = raw("POST", "/v3/pay/transactions/jsapi", _order(out_trade_no="SB|RAW*00001"))
    queried = raw("GET", f"/v3/pay/transactions/out-trade-no/{quote('SB|RAW*00001', safe='')}?mchid=1900000109")

    assert created.status_code == 200 and created.json()["prepay_id"].startswith("wx20261127100000")
    _verify_platform_signature(created, dev_keys)
    assert queried.json() == {
        "appid": "wx_sim_12366", "mchid": "1900000109", "out_trade_no": "SB|RAW*00001", "trade_type": "JSAPI",
        "trade_state": "NOTPAY", "trade_state_desc": "订单未支付", "payer": {},
        "amount": {"total": 38000, "currency": "CNY", "payer_currency": "CNY"}, "promotion_detail": [],
    }


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"description": "缴" * 128}, "PARAM_ERROR"),
        ({"description": ""}, "PARAM_ERROR"),
        ({"out_trade_no": "SB 1"}, "PARAM_ERROR"),
        ({"amount": {"total": 380.0}}, "PARAM_ERROR"),
        ({"amount": {"total": 0}}, "PARAM_ERROR"),
        ({"amount": {"total": 1, "currency": "USD"}}, "PARAM_ERROR"),
        ({"notify_url": "http://127.0.0.1:9/notify?x=1"}, "PARAM_ERROR"),
        ({"notify_url": "ftp://127.0.0.1/notify"}, "PARAM_ERROR"),
        ({"payer": {}}, "PARAM_ERROR"),
        ({"time_expire": "2026-11-27 10:30:00"}, "PARAM_ERROR"),
        ({"time_expire": "2026-11-27T09:59:59+08:00"}, "PARAM_ERROR"),
        ({"attach": "x" * 129}, "PARAM_ERROR"),
        ({"scene_info": {}}, "PARAM_ERROR"),
        ({"appid": "wx_other"}, "APPID_MCHID_NOT_MATCH"),
    ])
def test_field_rules(raw, changes, code):
    response = raw("POST", "/v3/pay/transactions/jsapi", _order(**changes))

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert raw("GET", "/v3/pay/transactions/out-trade-no/SB_RAW_000001?mchid=1900000109").status_code == 404


def test_query_and_close_check_the_mchid(raw):
    raw("POST", "/v3/pay/transactions/jsapi", _order())

    assert raw("GET", "/v3/pay/transactions/out-trade-no/SB_RAW_000001?mchid=1900000999").json()["code"] == "PARAM_ERROR"
    assert raw("POST", "/v3/pay/transactions/out-trade-no/SB_RAW_000001/close", {"mchid": "x"}).json()["code"] == "PARAM_ERROR"
    assert raw("POST", "/v3/pay/transactions/out-trade-no/SB_NOPE_000001/close", {"mchid": "1900000109"}).status_code == 404


def test_control_switch(wxpay_sim):
    assert wxpay_sim.control() == {"notify": "normal", "api": "ok", "delay_seconds": 3.0, "refund": "SUCCESS", "close": "ok"}
    assert wxpay_sim.control(api="slow", delay_seconds=0.5) == {"notify": "normal", "api": "slow", "delay_seconds": 0.5, "refund": "SUCCESS",
                                                                "close": "ok"}
    assert wxpay_sim.control(refund="ABNORMAL")["refund"] == "ABNORMAL"
    assert wxpay_sim.control(close="lost")["close"] == "lost"
    for bad in ({"notify": "sometimes"}, {"api": "flaky"}, {"delay_seconds": 61}, {"mode": "ok"}, {"refund": "LATER"}, {"close": "never"}, [1]):
        assert httpx.post(wxpay_sim.url + "/_control", json=bad, timeout=5).status_code == 400
    assert httpx.get(wxpay_sim.url + "/_control", timeout=5).json()["api"] == "slow"
