"""WechatPayV3Channel against the simulator over HTTP: create, pay at the cashier,
notification, query, idempotency, close and expiry (interfaces.md §4.2–§4.8)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from shebao.adapters.payment.port import ChannelTransaction, OrderAlreadyPaid, OutTradeNoUsed, PaymentError


def _prepay_id(launch) -> str:
    return launch.params["package"].removeprefix("prepay_id=")


def test_create_pay_notify_query(channel, make_bill, browser, receiver, clock):
    launch = channel.create(make_bill(attach="decl:45010020261127"))

    assert launch.channel == "wechatpay" and launch.kind == "jsapi"
    assert set(launch.params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert (launch.params["appId"], launch.params["signType"], launch.params["timeStamp"]) == (channel.appid, "RSA", str(int(clock.now.timestamp())))
    assert launch.params["package"].startswith("prepay_id=wx20261127100000")
    cashier = urlsplit(launch.cashier_url)
    assert parse_qs(cashier.query) == {"prepay_id": [_prepay_id(launch)], "return_url": [receiver.url + "/pay/result"]}

    answer = browser.press(launch.cashier_url, "确认支付")

    assert answer.status_code == 303
    assert answer.headers["location"] == receiver.url + "/pay/result?result=ok"
    [delivery] = receiver.wait_for(1)
    notified = channel.parse_notification(delivery.headers, delivery.body)
    assert notified.out_trade_no == "SB202611270000000001"
    assert notified.state == "SUCCESS"
    assert notified.amount_fen == 38000
    assert len(notified.transaction_id) == 28 and notified.transaction_id.startswith("420000")
    assert notified.transaction_id[10:18] == "20261127"
    assert notified.success_time == dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    assert (notified.bank_type, notified.payer_openid, notified.raw_state_desc, notified.attach) == (
        "OTHERS", make_bill().payer_openid, "支付成功", "decl:45010020261127")
    assert channel.query("SB202611270000000001") == notified


def test_paysign_verifies_with_the_merchant_public_key(channel, make_bill, dev_keys):
    params = channel.create(make_bill()).params
    public_key = serialization.load_pem_public_key(dev_keys["WECHATPAY_MERCHANT_PUBLIC_KEY"].encode())
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()

    public_key.verify(base64.b64decode(params["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())  # raises if wrong
    assert len(params["nonceStr"]) == 32


def test_unpaid_order_queries_notpay(channel, make_bill):
    channel.create(make_bill())

    assert channel.query("SB202611270000000001") == ChannelTransaction(
        out_trade_no="SB202611270000000001", transaction_id=None, state="NOTPAY", amount_fen=38000,
        success_time=None, bank_type=None, payer_openid=None, raw_state_desc="订单未支付", currency="CNY",
    )


def test_same_bill_twice_gets_the_same_prepay_id(channel, make_bill, clock):
    bill = make_bill()
    first = channel.create(bill)
    clock.advance(minutes=5)
    second = channel.create(dataclasses.replace(bill, client_ip="198.51.100.20"))  # the payer's IP may change

    assert _prepay_id(second) == _prepay_id(first)
    assert second.params["timeStamp"] != first.params["timeStamp"]


def test_prepay_id_lives_two_hours_then_a_new_one_is_issued(channel, make_bill, clock):
    bill = make_bill(expire_at=clock.now + dt.timedelta(hours=3))
    first = channel.create(bill)
    clock.advance(hours=2)

    assert _prepay_id(channel.create(bill)) != _prepay_id(first)


def test_changed_amount_is_out_trade_no_used(channel, make_bill):
    bill = make_bill()
    channel.create(bill)

    with pytest.raises(OutTradeNoUsed) as caught:
        channel.create(dataclasses.replace(bill, amount_fen=38001))

    assert (caught.value.code, caught.value.retryable, caught.value.http_status) == ("OUT_TRADE_NO_USED", False, 403)
    assert channel.query("SB202611270000000001").amount_fen == 38000  # the order did not change


def test_close_unpaid_then_query_closed(channel, make_bill):
    channel.create(make_bill())

    assert channel.close("SB202611270000000001") is None
    channel.close("SB202611270000000001")  # closing again is harmless

    closed = channel.query("SB202611270000000001")
    assert (closed.state, closed.raw_state_desc, closed.transaction_id) == ("CLOSED", "订单已关闭", None)
    with pytest.raises(PaymentError) as caught:
        channel.create(make_bill())
    assert (caught.value.code, caught.value.retryable) == ("ORDER_CLOSED", False)


def test_close_paid_order_is_refused(channel, make_bill, browser, receiver):
    launch = channel.create(make_bill())
    browser.press(launch.cashier_url, "确认支付")

    with pytest.raises(OrderAlreadyPaid) as caught:
        channel.close("SB202611270000000001")

    assert (caught.value.code, caught.value.retryable, caught.value.http_status) == ("ORDERPAID", False, 400)
    assert channel.query("SB202611270000000001").state == "SUCCESS"
    with pytest.raises(OrderAlreadyPaid):
        channel.create(make_bill())


def test_fail_button_is_payerror_without_notification(channel, make_bill, browser, receiver):
    launch = channel.create(make_bill())

    answer = browser.press(launch.cashier_url, "支付失败")

    assert answer.headers["location"] == receiver.url + "/pay/result?result=fail"
    failed = channel.query("SB202611270000000001")
    assert (failed.state, failed.raw_state_desc, failed.transaction_id, failed.success_time) == (
        "PAYERROR", "支付失败：银行卡余额不足", None, None)
    assert receiver.quiet_for(0.4) == []


def test_payerror_order_can_still_be_paid(channel, make_bill, browser, receiver):
    launch = channel.create(make_bill())
    browser.press(launch.cashier_url, "支付失败")

    browser.press(launch.cashier_url, "确认支付")

    assert channel.query("SB202611270000000001").state == "SUCCESS"
    assert len(receiver.wait_for(1)) == 1


def test_cancel_button_leaves_notpay(channel, make_bill, browser, receiver):
    launch = channel.create(make_bill())

    answer = browser.press(launch.cashier_url, "取消")

    assert answer.headers["location"] == receiver.url + "/pay/result?result=cancel"
    assert channel.query("SB202611270000000001").state == "NOTPAY"
    assert receiver.quiet_for(0.3) == []


def test_order_closes_itself_at_time_expire(channel, make_bill, browser, clock, receiver):
    launch = channel.create(make_bill(expire_at=clock.now + dt.timedelta(minutes=15)))
    clock.advance(minutes=15)

    assert channel.query("SB202611270000000001").state == "CLOSED"
    page = browser.open(launch.cashier_url)
    assert page.status_code == 200 and "订单已关闭" in page.text
    assert browser.page.buttons == {}


def test_unknown_order_is_order_not_exist(channel):
    with pytest.raises(PaymentError) as caught:
        channel.query("SB_NEVER_CREATED_01")

    assert (caught.value.code, caught.value.retryable, caught.value.http_status) == ("ORDER_NOT_EXIST", False, 404)


def test_bad_out_trade_no_never_leaves(channel, make_bill, receiver):
    for bad in ("short", "x" * 33, "SB/../../v3", "SB2026 1127", "单号202611270001"):
        with pytest.raises(PaymentError) as caught:
            channel.query(bad)
        assert (caught.value.code, caught.value.retryable) == ("PARAM_ERROR", False)
    with pytest.raises(PaymentError, match="amount.total"):
        channel.create(make_bill(amount_fen=0))
    with pytest.raises(PaymentError, match="payer.openid"):
        channel.create(make_bill(payer_openid=None))
    with pytest.raises(PaymentError, match="description"):
        channel.create(make_bill(description="缴" * 128))


def test_out_trade_no_with_pipe_and_star_is_signed_as_sent(channel, make_bill):
    channel.create(make_bill(out_trade_no="SB|2026*11-27_01"))

    assert channel.query("SB|2026*11-27_01").state == "NOTPAY"
    channel.close("SB|2026*11-27_01")
    assert channel.query("SB|2026*11-27_01").state == "CLOSED"


def test_a_recomputed_expire_at_is_another_order(channel, make_bill, clock):
    """time_expire is part of the order: the caller must keep the attempt's expire_at, not recompute it."""
    channel.create(make_bill())
    clock.advance(seconds=1)

    with pytest.raises(OutTradeNoUsed):
        channel.create(make_bill())  # expire_at = now + 30 min again: one second later than the first


def test_paying_after_time_expire_is_refused(channel, make_bill, browser, clock, receiver):
    launch = channel.create(make_bill(expire_at=clock.now + dt.timedelta(minutes=15)))
    browser.open(launch.cashier_url)
    fields = {**browser.page.fields, "action": "pay"}
    clock.advance(minutes=15)

    answer = browser.http.post(launch.cashier_url.split("?")[0], data=fields)

    assert answer.status_code == 200 and "订单已关闭" in answer.text
    assert channel.query("SB202611270000000001").state == "CLOSED"
    assert receiver.quiet_for(0.3) == []
