"""WeChat Pay v3 domestic refunds against the simulator over HTTP (interfaces.md §4.9):
out_refund_no idempotency, the PROCESSING → SUCCESS | ABNORMAL | CLOSED state machine, the
refunded total capped at what was paid, and answers signed and verified like orders."""

from __future__ import annotations

import pytest

from shebao.adapters.payment.port import NotificationRejected, PaymentError

TOTAL = 38000


def _refund(channel, no="RF0000000001", *, refund_fen=TOTAL, out_trade_no="SB202611270000000001", total_fen=TOTAL):
    return channel.refund(out_refund_no=no, out_trade_no=out_trade_no, refund_fen=refund_fen, total_fen=total_fen, reason="重复缴费退款")


def test_a_refund_is_processing_then_back_the_way_it_came(channel, make_bill, pay, clock):
    pay(make_bill())
    first = _refund(channel)
    assert (first.status, first.refund_fen, first.total_fen, first.out_trade_no, first.success_time) == (
        "PROCESSING", TOTAL, TOTAL, "SB202611270000000001", None)
    assert first.refund_id and first.transaction_id
    done = channel.refund_query("RF0000000001")
    assert (done.status, done.refund_id, done.refund_fen) == ("SUCCESS", first.refund_id, TOTAL)
    assert done.success_time is not None
    assert channel.query("SB202611270000000001").state == "REFUND"
    assert "user_received_account" not in repr(done) and done.user_received_account  # personal data kept out of logs


def test_the_same_out_refund_no_again_is_the_same_refund_never_a_second(channel, make_bill, pay):
    pay(make_bill())
    first = _refund(channel)
    again = _refund(channel)
    assert again.refund_id == first.refund_id
    with pytest.raises(PaymentError) as changed:
        _refund(channel, refund_fen=TOTAL - 1)  # the same number with another amount
    assert (changed.value.code, changed.value.retryable) == ("INVALID_REQUEST", False)
    with pytest.raises(PaymentError) as second:
        _refund(channel, "RF0000000002")  # a new number: nothing left to refund
    assert (second.value.code, second.value.retryable) == ("NOT_ENOUGH", False)


@pytest.mark.parametrize("outcome", ["ABNORMAL", "CLOSED"])
def test_a_failed_refund_gives_the_amount_back_to_refund_again(channel, make_bill, pay, wxpay_sim, outcome):
    pay(make_bill())
    wxpay_sim.control(refund=outcome)
    _refund(channel)
    assert channel.refund_query("RF0000000001").status == outcome
    assert channel.query("SB202611270000000001").state == "SUCCESS"
    wxpay_sim.control(refund="SUCCESS")
    _refund(channel, "RF0000000002")
    assert channel.refund_query("RF0000000002").status == "SUCCESS"


def test_refunds_of_unpaid_or_unknown_orders_and_unknown_refunds_are_refused(channel, make_bill):
    channel.create(make_bill())
    with pytest.raises(PaymentError) as unpaid:
        _refund(channel)
    assert unpaid.value.code == "INVALID_REQUEST"
    with pytest.raises(PaymentError) as unknown:
        _refund(channel, out_trade_no="SB202611279999999999")
    assert unknown.value.code == "RESOURCE_NOT_EXISTS"
    with pytest.raises(PaymentError) as missing:
        channel.refund_query("RF0000000404")
    assert (missing.value.code, missing.value.retryable) == ("RESOURCE_NOT_EXISTS", False)


@pytest.mark.parametrize(("fen", "total"), [(0, TOTAL), (-1, TOTAL), (TOTAL + 1, TOTAL)])
def test_bad_amounts_are_refused_before_anything_is_sent(channel, make_bill, pay, fen, total):
    pay(make_bill())
    with pytest.raises(PaymentError, match="退款金额"):
        _refund(channel, refund_fen=fen, total_fen=total)
    with pytest.raises(PaymentError) as missing:
        channel.refund_query("RF0000000001")
    assert missing.value.code == "RESOURCE_NOT_EXISTS"


def test_a_total_that_is_not_the_orders_is_refused(channel, make_bill, pay):
    pay(make_bill())
    with pytest.raises(PaymentError) as wrong:
        _refund(channel, refund_fen=100, total_fen=TOTAL + 100)
    assert wrong.value.code == "PARAM_ERROR"


def test_a_refund_answer_with_a_bad_signature_is_not_believed(channel, make_bill, pay, wxpay_sim):
    pay(make_bill())
    wxpay_sim.control(api="bad_response_signature")
    with pytest.raises(PaymentError) as unsigned:
        _refund(channel)
    assert unsigned.value.code == "RESPONSE_SIGNATURE_INVALID"
    wxpay_sim.control(api="ok")
    assert _refund(channel).status == "PROCESSING"  # the identical request again: the one refund, now readable
    assert channel.refund_query("RF0000000001").status == "SUCCESS"


@pytest.mark.parametrize("outcome", ["SUCCESS", "ABNORMAL"])
def test_the_outcome_is_notified_signed_and_encrypted(channel, make_bill, pay, receiver, wxpay_sim, outcome):
    pay(make_bill())
    receiver.wait_for(1)  # the payment's own notification
    wxpay_sim.control(refund=outcome)
    created = _refund(channel)
    channel.refund_query("RF0000000001")
    delivery = receiver.wait_for(2)[-1]
    notified = channel.parse_refund_notification(delivery.headers, delivery.body)
    assert (notified.out_refund_no, notified.refund_id, notified.status, notified.refund_fen) == (
        "RF0000000001", created.refund_id, outcome, TOTAL)
    with pytest.raises(NotificationRejected) as as_payment:  # a refund notification is never read as a payment
        channel.parse_notification(delivery.headers, delivery.body)
    assert as_payment.value.reason == "unexpected_event"
    tampered = delivery.body.replace(b'"ciphertext":"', b'"ciphertext":"A', 1)
    with pytest.raises(NotificationRejected) as forged:
        channel.parse_refund_notification(delivery.headers, tampered)
    assert forged.value.reason == "bad_signature"


def test_a_payment_notification_is_not_a_refund(channel, make_bill, pay, receiver):
    pay(make_bill())
    (delivery,) = receiver.wait_for(1)
    with pytest.raises(NotificationRejected) as refused:
        channel.parse_refund_notification(delivery.headers, delivery.body)
    assert refused.value.reason == "unexpected_event"
