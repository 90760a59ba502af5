"""The WeChat Pay simulator as a vendor client sees it: the widely used ``wechatpayv3``
SDK (pinned in requirements-dev.in), pointed at the simulator mounted under /sim/wxpay,
signs ``/v3/...`` — the path relative to its gateway, as against api.mch.weixin.qq.com —
and must be accepted: JSAPI order, query by out_trade_no and by transaction_id, close,
the payment notification checked and decrypted by the SDK's own ``callback`` helper,
and the GZIP trade bill.

The SDK has a fixed gateway (``Core._gate_way``, no constructor argument): the test
sets that attribute to the simulator's base URL. It signs with ``time.time()``; the
test hands it the simulator's moving clock so a bill of "yesterday" can be fetched.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import types

import pytest
from wechatpayv3 import WeChatPay, WeChatPayType

from tests.adapters.payment.conftest import APPID, MCHID, OPENID


@pytest.fixture
def sdk(wxpay_sim, receiver, dev_keys, clock, monkeypatch):
    """A ``wechatpayv3.WeChatPay`` in WeChat Pay public-key mode (no platform certificate download)."""
    import wechatpayv3.utils

    monkeypatch.setattr(wechatpayv3.utils, "time", types.SimpleNamespace(time=lambda: clock.now.timestamp()))
    pay = WeChatPay(
        wechatpay_type=WeChatPayType.JSAPI, mchid=MCHID, private_key=dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"],
        cert_serial_no=dev_keys["WECHATPAY_MERCHANT_SERIAL_NO"], appid=APPID, apiv3_key=dev_keys["WECHATPAY_APIV3_KEY"],
        notify_url=receiver.notify_url, public_key=dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY"],
        public_key_id=dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY_ID"], timeout=(3, 5),
    )
    pay._core._gate_way = wxpay_sim.url  # e.g. http://127.0.0.1:PORT/sim/wxpay
    return pay


def _order(sdk, out_trade_no: str, clock, total: int = 38000) -> str:
    code, message = sdk.pay(
        description="城乡居民基本医疗保险费 2027年度", out_trade_no=out_trade_no, amount={"total": total, "currency": "CNY"},
        payer={"openid": OPENID}, time_expire=(clock.now + dt.timedelta(minutes=30)).astimezone().isoformat(timespec="seconds"),
        pay_type=WeChatPayType.JSAPI,
    )
    assert code == 200, message
    return json.loads(message)["prepay_id"]


def test_order_pay_notification_query_and_gzip_bill(sdk, wxpay_sim, receiver, browser, clock):
    prepay_id = _order(sdk, "SB202611270000000101", clock)
    assert prepay_id.startswith("wx")

    paid = browser.press(f"{wxpay_sim.url}/cashier?prepay_id={prepay_id}&return_url={receiver.url}/pay/result", "确认支付")
    assert paid.status_code == 303, paid.text

    delivery = receiver.wait_for(1)[0]
    notice = sdk.callback(delivery.headers, delivery.body)  # signature checked and resource decrypted by the SDK
    assert notice is not None, "wechatpayv3 refused the simulator's notification"
    assert notice["event_type"] == "TRANSACTION.SUCCESS"
    transaction = notice["resource"]
    assert (transaction["out_trade_no"], transaction["trade_state"], transaction["amount"]["total"]) == ("SB202611270000000101", "SUCCESS", 38000)
    assert (transaction["mchid"], transaction["appid"], transaction["payer"]["openid"]) == (MCHID, APPID, OPENID)

    code, message = sdk.query(out_trade_no="SB202611270000000101")
    assert code == 200, message
    assert json.loads(message) == transaction
    code, message = sdk.query(transaction_id=transaction["transaction_id"])
    assert code == 200, message
    assert json.loads(message) == transaction
    code, message = sdk.query(transaction_id="4200009999202611270000000000")
    assert code == 404 and json.loads(message)["code"] == "ORDER_NOT_EXIST"

    clock.advance(days=1)
    code, message = sdk.trade_bill(bill_date="2026-11-27")  # the SDK asks tar_type=GZIP by default
    assert code == 200, message
    answer = json.loads(message)
    code, content = sdk.download_bill(answer["download_url"])
    assert code == 200
    bill = gzip.decompress(content)  # the hash is over the bill itself, not the archive (as WeChat Pay documents)
    assert (answer["hash_type"], answer["hash_value"]) == ("SHA1", hashlib.sha1(bill).hexdigest())
    lines = bill.decode("utf-8").splitlines()
    assert lines[0].startswith("交易时间,公众账号ID,商户号")
    assert f"`{transaction['transaction_id']},`SB202611270000000101," in lines[1]


def test_refund_and_refund_query(sdk, wxpay_sim, receiver, browser, clock):
    """The vendor's SDK refunds through the simulator and reads the refund back, signatures checked."""
    prepay_id = _order(sdk, "SB202611270000000103", clock, total=20000)
    paid = browser.press(f"{wxpay_sim.url}/cashier?prepay_id={prepay_id}&return_url={receiver.url}/pay/result", "确认支付")
    assert paid.status_code == 303, paid.text
    code, message = sdk.refund(out_refund_no="RF0000000103", amount={"refund": 20000, "total": 20000, "currency": "CNY"},
                               out_trade_no="SB202611270000000103", reason="重复缴费退款")
    assert code == 200, message
    created = json.loads(message)
    assert (created["status"], created["amount"]["refund"], created["out_trade_no"]) == ("PROCESSING", 20000, "SB202611270000000103")
    code, message = sdk.query_refund(out_refund_no="RF0000000103")
    assert code == 200, message
    assert (json.loads(message)["status"], json.loads(message)["refund_id"]) == ("SUCCESS", created["refund_id"])


def test_close_order(sdk, clock):
    _order(sdk, "SB202611270000000102", clock, total=12000)

    code, message = sdk.close(out_trade_no="SB202611270000000102")
    assert code == 204, message

    code, message = sdk.query(out_trade_no="SB202611270000000102")
    assert code == 200, message
    assert json.loads(message)["trade_state"] == "CLOSED"


def test_a_request_signed_with_another_key_is_still_refused(sdk, clock):
    """Accepting the SDK's ``/v3/...`` signature must not mean accepting any signature."""
    from wechatpayv3.utils import load_private_key

    from shebao.adapters.payment.keys import generate_dev_keys

    sdk._core._private_key = load_private_key(generate_dev_keys()["WECHATPAY_MERCHANT_PRIVATE_KEY"])
    code, message = sdk.query(out_trade_no="SB202611270000000103")
    assert code == 401 and json.loads(message)["code"] == "SIGN_ERROR"
