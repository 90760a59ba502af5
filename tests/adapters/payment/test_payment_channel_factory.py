"""get_payment_channel(): the configured channel from settings.PAYMENT, and the development
mount of the simulator (shebao.adapters.simulators) reading the same settings lazily."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from shebao.adapters.loopback import LoopbackServer
from shebao.adapters.payment import get_payment_channel
from shebao.adapters.payment.wechatpay import WechatPayV3Channel
from shebao.adapters.simulators import SimulatorDispatcher
from shebao.common import clock as service_clock


def _not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"django"]


def _wechatpay_settings(dev_keys, base: str) -> dict:
    return {
        "MCHID": "1900000109",
        "APPID": "wx_sim_12366",
        "MERCHANT_SERIAL_NO": dev_keys["WECHATPAY_MERCHANT_SERIAL_NO"],
        "MERCHANT_PRIVATE_KEY": dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"],
        "APIV3_KEY": dev_keys["WECHATPAY_APIV3_KEY"],
        "PLATFORM_PUBLIC_KEY": dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY"],
        "PLATFORM_PUBLIC_KEY_ID": dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY_ID"],
        "BASE_URL": f"{base}/sim/wxpay",
        "NOTIFY_URL": f"{base}/pay/notify/wechatpay",
        "CASHIER_URL": f"{base}/sim/wxpay/cashier",
        "TIMEOUT_SECONDS": 4.0,
        "MERCHANT_PUBLIC_KEY": dev_keys["WECHATPAY_MERCHANT_PUBLIC_KEY"],
        "PLATFORM_PRIVATE_KEY": dev_keys["WECHATPAY_PLATFORM_PRIVATE_KEY"],
    }


def test_builds_the_wechatpay_client_once_per_configuration(settings, dev_keys):
    settings.PAYMENT = {"WECHATPAY": _wechatpay_settings(dev_keys, "http://127.0.0.1:1")}

    channel = get_payment_channel()

    assert isinstance(channel, WechatPayV3Channel)
    assert (channel.name, channel.label, channel.mchid, channel.appid, channel.base_url, channel.notify_url, channel.cashier_url) == (
        "wechatpay", "微信支付", "1900000109", "wx_sim_12366", "http://127.0.0.1:1/sim/wxpay",
        "http://127.0.0.1:1/pay/notify/wechatpay", "http://127.0.0.1:1/sim/wxpay/cashier")
    assert channel._http.timeout == 4.0
    assert get_payment_channel("wechatpay") is channel


def test_unknown_channel_missing_section_and_missing_value(settings, dev_keys):
    settings.PAYMENT = {"WECHATPAY": {**_wechatpay_settings(dev_keys, "http://127.0.0.1:1"), "APIV3_KEY": ""}}

    with pytest.raises(ImproperlyConfigured, match="unionpay"):
        get_payment_channel("unionpay")
    with pytest.raises(ImproperlyConfigured, match="APIV3_KEY"):
        get_payment_channel()
    settings.PAYMENT = {}
    with pytest.raises(ImproperlyConfigured, match="WECHATPAY"):
        get_payment_channel()


def test_development_mount_pays_end_to_end(settings, dev_keys, tmp_path, make_bill, browser, receiver):
    dispatcher = SimulatorDispatcher(_not_found, state_dir=tmp_path / "sim")  # no PAYMENT settings needed to build it
    server = LoopbackServer(dispatcher).start()
    try:
        settings.PAYMENT = {"WECHATPAY": {**_wechatpay_settings(dev_keys, server.url), "NOTIFY_URL": receiver.notify_url}}
        channel = get_payment_channel()

        launch = channel.create(make_bill(return_url=None, expire_at=service_clock.now() + dt.timedelta(minutes=30)))
        answer = browser.press(launch.cashier_url, "确认支付")

        assert answer.status_code == 200 and "支付成功" in answer.text
        assert channel.query("SB202611270000000001").state == "SUCCESS"
        [delivery] = receiver.wait_for(1)
        assert channel.parse_notification(delivery.headers, delivery.body).amount_fen == 38000
        assert (tmp_path / "sim" / "wxpay.sqlite3").exists()
    finally:
        server.stop()
