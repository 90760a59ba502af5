"""Payment notifications (interfaces.md §4.6): what the simulator delivers in each mode,
and what ``parse_notification`` refuses. The body is never trusted before the signature."""

from __future__ import annotations

import json

import pytest

from shebao.adapters.payment.port import NotificationRejected

NO = "SB202611270000000001"


def _rejection(channel, headers, body) -> str:
    with pytest.raises(NotificationRejected) as caught:
        channel.parse_notification(headers, body)
    return caught.value.reason


def _transaction(channel, **changes):
    return {"appid": channel.appid, "mchid": channel.mchid, "out_trade_no": NO,
            "transaction_id": "4200001234202611271234567890", "trade_type": "JSAPI", "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功", "bank_type": "OTHERS", "success_time": "2026-11-27T10:00:00+08:00",
            "payer": {"openid": "oX"}, "amount": {"total": 38000, "payer_total": 38000, "currency": "CNY"}, **changes}


def test_notification_envelope_as_delivered(pay, make_bill, receiver, dev_keys):
    pay(make_bill())

    [delivery] = receiver.wait_for(1)

    envelope = json.loads(delivery.body)
    assert set(envelope) == {"id", "create_time", "resource_type", "event_type", "summary", "resource"}
    assert (envelope["event_type"], envelope["resource_type"], envelope["summary"], envelope["create_time"]) == (
        "TRANSACTION.SUCCESS", "encrypt-resource", "支付成功", "2026-11-27T10:00:00+08:00")
    resource = envelope["resource"]
    assert (resource["algorithm"], resource["original_type"], resource["associated_data"], len(resource["nonce"])) == (
        "AEAD_AES_256_GCM", "transaction", "transaction", 12)
    assert NO not in delivery.body.decode()  # the transaction travels encrypted
    assert delivery.headers["Wechatpay-Serial"] == dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY_ID"]
    assert delivery.headers["Content-Type"] == "application/json"


def test_unacknowledged_notification_is_retried_with_fresh_signatures(channel, pay, make_bill, receiver):
    receiver.statuses = [500, 503]
    pay(make_bill())

    deliveries = receiver.wait_for(3)

    assert len({d.body for d in deliveries}) == 1  # the same notification (same id)
    assert len({d.headers["Wechatpay-Nonce"] for d in deliveries}) == 3
    assert [channel.parse_notification(d.headers, d.body).transaction_id for d in deliveries].count(None) == 0
    assert len(receiver.quiet_for(0.4)) == 3  # acknowledged by the third: no more


def test_never_acknowledged_stops_after_the_schedule(pay, make_bill, receiver):
    receiver.statuses = [500] * 10
    pay(make_bill())

    receiver.wait_for(4)  # the first try and one per entry of the (compressed) schedule

    assert len(receiver.quiet_for(0.5)) == 4


def test_duplicate_mode_delivers_each_notification_twice(channel, pay, make_bill, receiver, wxpay_sim):
    wxpay_sim.control(notify="duplicate")
    pay(make_bill())

    first, second = receiver.wait_for(2)

    assert first.body == second.body
    assert channel.parse_notification(first.headers, first.body) == channel.parse_notification(second.headers, second.body)
    assert len(receiver.quiet_for(0.3)) == 2


def test_wrong_amount_mode_reports_the_amount_it_carries(channel, pay, make_bill, receiver, wxpay_sim):
    wxpay_sim.control(notify="wrong_amount")
    pay(make_bill())

    [delivery] = receiver.wait_for(1)

    assert channel.parse_notification(delivery.headers, delivery.body).amount_fen == 37999
    assert channel.query(NO).amount_fen == 38000


def test_out_of_order_mode_delivers_newest_first(channel, pay, make_bill, receiver, wxpay_sim):
    wxpay_sim.control(notify="out_of_order")
    pay(make_bill(out_trade_no="SB_FIRST_000001"))
    assert receiver.quiet_for(0.3) == []  # held back
    pay(make_bill(out_trade_no="SB_SECOND_00002"))

    deliveries = receiver.wait_for(2)

    assert [channel.parse_notification(d.headers, d.body).out_trade_no for d in deliveries] == ["SB_SECOND_00002", "SB_FIRST_000001"]


def test_leaving_out_of_order_mode_releases_held_notifications(channel, pay, make_bill, receiver, wxpay_sim):
    wxpay_sim.control(notify="out_of_order")
    pay(make_bill())
    assert receiver.quiet_for(0.2) == []

    wxpay_sim.control(notify="normal")

    [delivery] = receiver.wait_for(1)
    assert channel.parse_notification(delivery.headers, delivery.body).out_trade_no == NO


def test_none_mode_sends_nothing_but_the_order_is_paid(channel, pay, make_bill, receiver, wxpay_sim):
    wxpay_sim.control(notify="none")
    pay(make_bill())

    assert receiver.quiet_for(0.4) == []
    assert channel.query(NO).state == "SUCCESS"


def test_bad_signature_mode_is_rejected(channel, pay, make_bill, receiver, wxpay_sim):
    wxpay_sim.control(notify="bad_signature")
    pay(make_bill())

    [delivery] = receiver.wait_for(1)

    assert _rejection(channel, delivery.headers, delivery.body) == "bad_signature"


def test_stale_timestamp_is_rejected(channel, pay, make_bill, receiver, clock):
    pay(make_bill())
    [delivery] = receiver.wait_for(1)
    clock.advance(seconds=299)
    assert channel.parse_notification(delivery.headers, delivery.body).state == "SUCCESS"

    clock.advance(seconds=1)

    assert _rejection(channel, delivery.headers, delivery.body) == "stale_timestamp"


def test_unknown_serial_and_missing_headers_are_rejected(channel, pay, make_bill, receiver):
    pay(make_bill())
    [delivery] = receiver.wait_for(1)

    assert _rejection(channel, {**delivery.headers, "Wechatpay-Serial": "PUB_KEY_ID_0999999999999999999999"}, delivery.body) == "unknown_serial"
    assert _rejection(channel, {k: v for k, v in delivery.headers.items() if k != "Wechatpay-Signature"}, delivery.body) == "missing_header"
    assert _rejection(channel, {}, delivery.body) == "missing_header"


def test_body_changed_after_signing_is_rejected_before_decrypting(channel, pay, make_bill, receiver):
    pay(make_bill())
    [delivery] = receiver.wait_for(1)
    envelope = json.loads(delivery.body)
    envelope["event_type"] = "TRANSACTION.SUCCESS "

    assert _rejection(channel, delivery.headers, json.dumps(envelope).encode()) == "bad_signature"


def test_tampered_ciphertext_with_a_valid_signature_fails_decryption(channel, pay, make_bill, receiver, platform_sign):
    pay(make_bill())
    [delivery] = receiver.wait_for(1)
    envelope = json.loads(delivery.body)
    ciphertext = envelope["resource"]["ciphertext"]
    envelope["resource"]["ciphertext"] = ("B" if ciphertext[0] != "B" else "C") + ciphertext[1:]
    body = json.dumps(envelope).encode()

    assert _rejection(channel, platform_sign(body), body) == "decrypt_failed"


def test_validly_signed_but_malformed_or_foreign_notifications(channel, platform_sign, seal):
    cases = {
        b"not json": "malformed",
        json.dumps({"event_type": "TRANSACTION.SUCCESS"}).encode(): "malformed",
        seal(b"not json inside"): "malformed",
        seal(_transaction(channel, trade_state="PAID")): "malformed",
        seal(_transaction(channel, amount={"total": "380.00"})): "malformed",
        seal(_transaction(channel, mchid="1900000999")): "merchant_mismatch",
        seal(_transaction(channel, appid="wx_other")): "merchant_mismatch",
        seal(_transaction(channel), event_type="REFUND.SUCCESS"): "unexpected_event",
    }
    for body, reason in cases.items():
        assert _rejection(channel, platform_sign(body), body) == reason, body


def test_hand_made_notification_with_django_meta_headers(channel, platform_sign, seal):
    body = seal(_transaction(channel))
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in platform_sign(body).items()}

    notified = channel.parse_notification(meta, body)

    assert (notified.out_trade_no, notified.state, notified.amount_fen, notified.transaction_id) == (
        NO, "SUCCESS", 38000, "4200001234202611271234567890")


@pytest.mark.parametrize("missing_or_wrong", [{"appid": None}, {"mchid": None}, {"appid": "wxOTHER"}, {"mchid": "1900000999"}])
def test_a_paid_transaction_not_naming_our_merchant_and_app_is_unusable(missing_or_wrong):
    """A query answer (or notification) of a SUCCESS must carry our appid and mchid to be credited."""
    from shebao.adapters.payment.wechatpay_messages import transaction_from
    data = {"appid": "wxA", "mchid": "190", "out_trade_no": "SB0000000001", "trade_state": "SUCCESS",
            "amount": {"total": 100, "currency": "CNY"}} | missing_or_wrong
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValueError, match="merchant"):
        transaction_from(data, mchid="190", appid="wxA")
    assert transaction_from(data | {"appid": "wxA", "mchid": "190"}, mchid="190", appid="wxA").currency == "CNY"
