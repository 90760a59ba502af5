"""Payment notifications: replayed, out of order, wrongly signed or with a wrong
amount credit nothing twice and never a wrong amount; 50 concurrent copies give
exactly one tax receipt (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from decimal import Decimal

import pytest
from django.db import connection

from shebao.accounts.models import Account
from shebao.adapters.core import get_core
from shebao.archive.models import ArchiveRecord
from shebao.common.identity import identity_index
from shebao.core.demo_data import DEMO_PEOPLE, demo_id
from shebao.core.models import TaxReceipt
from shebao.fees import services
from shebao.fees.models import (
    AttemptState,
    NotificationNonce,
    NotificationOutcome,
    PaymentAttempt,
    PaymentNotification,
    PaymentOrder,
)
from shebao.fees.quotes import quote
from shebao.rules.periods import FeePeriod
from tests import actors
from tests.fees.helpers import FEE_NOW
from tests.fees.notifications import notification

pytestmark = pytest.mark.django_db(transaction=True)
STEPPED_UP = int(FEE_NOW.timestamp())  # the session's step-up marker: confirmed by SMS just now


@pytest.fixture
def attempt(sims, clock, demo_people):
    """张伟 with a declared month and an attempt open at the channel (no automatic notifications)."""
    clock.now = FEE_NOW
    sims.control("wxpay", notify="none")
    account = Account.objects.get(id_index=identity_index(id_type="201", id_number=demo_id(DEMO_PEOPLE[0])))
    registration_no = get_core().registration_find(name=account.name, id_type="201", id_number=account.id_number)
    profile = get_core().payer_profile(registration_no=registration_no)
    q = quote(profile=profile, insurance_type_codes=["10210-FLEX"], names={}, contribution_year=2026,
              period_from=FeePeriod(2026, 1), period_to=FeePeriod(2026, 1), base=Decimal("4371.00"), grade=None, today=FEE_NOW.date())
    order = services.declaration_submit(actor=actors.citizen(account, step_up_at=STEPPED_UP), registration_no=registration_no, quote=q, idempotency_key="n1", now=FEE_NOW)
    return services.payment_start(actor=actors.citizen(account, step_up_at=STEPPED_UP), order=order, openid="oTestOpenid", now=FEE_NOW).attempt


def test_declaring_is_refused_by_the_service_without_a_recent_step_up(attempt):
    order = attempt.order
    profile = get_core().payer_profile(registration_no=order.registration_no)
    q = quote(profile=profile, insurance_type_codes=["10210-FLEX"], names={}, contribution_year=2026,
              period_from=FeePeriod(2026, 2), period_to=FeePeriod(2026, 2), base=Decimal("4371.00"), grade=None, today=FEE_NOW.date())
    for stale in (None, STEPPED_UP - 301):
        with pytest.raises(services.StepUpRequired):
            services.declaration_submit(actor=actors.citizen(order.account, step_up_at=stale), registration_no=order.registration_no, quote=q, idempotency_key="n2",
                                        now=FEE_NOW)
    assert PaymentOrder.objects.count() == 1


def _handle(headers, body):
    return services.notification_handle(channel_name="wechatpay", headers=headers, body=body, now=FEE_NOW)


def test_valid_notification_credits_once_and_replay_changes_nothing(attempt):
    headers, body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000001", amount_fen=87420, now=FEE_NOW)
    assert _handle(headers, body) == NotificationOutcome.CREDITED
    assert _handle(headers, body) == NotificationOutcome.REPLAYED  # the same signed copy: its nonce was seen
    again_headers, again_body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000001", amount_fen=87420, now=FEE_NOW)
    assert _handle(again_headers, again_body) == NotificationOutcome.DUPLICATE  # re-signed (new nonce): idempotent
    assert TaxReceipt.objects.count() == 1
    assert TaxReceipt.objects.get().amount == Decimal("874.20")
    assert PaymentOrder.objects.get().state == "paid"
    assert ArchiveRecord.objects.filter(business_type="payment").count() == 1
    assert list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True)) == ["credited", "replayed", "duplicate"]
    assert PaymentNotification.objects.get(outcome="replayed").detail == "原通知：credited"


def test_wrong_signature_is_refused_logged_and_alerted(attempt, caplog):
    headers, body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000002", amount_fen=87420, now=FEE_NOW,
                                 corrupt_signature=True)
    with caplog.at_level(logging.ERROR, logger="shebao.fees"):
        assert _handle(headers, body) == NotificationOutcome.REJECTED
    assert TaxReceipt.objects.count() == 0 and PaymentOrder.objects.get().state == "open"
    assert PaymentNotification.objects.get().outcome == "rejected"
    assert any("rejected" in r.getMessage() for r in caplog.records)


def test_wrong_amount_never_credited(attempt, caplog):
    headers, body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000003", amount_fen=87419, now=FEE_NOW)
    with caplog.at_level(logging.ERROR, logger="shebao.fees"):
        assert _handle(headers, body) == NotificationOutcome.WRONG_AMOUNT
    assert TaxReceipt.objects.count() == 0 and PaymentOrder.objects.get().state == "open"
    assert PaymentAttempt.objects.get().state == AttemptState.CREATED
    assert any("amount mismatch" in r.getMessage() for r in caplog.records)


def test_unknown_order_is_logged(attempt):
    headers, body = notification(out_trade_no="SBNOSUCHORDER0000001", transaction_id="4200000004", amount_fen=100, now=FEE_NOW)
    assert _handle(headers, body) == NotificationOutcome.UNKNOWN_ORDER
    assert TaxReceipt.objects.count() == 0


def test_late_notification_of_an_older_attempt_is_a_double_payment_not_a_second_receipt(attempt):
    account = attempt.order.account
    second = services.payment_start(actor=actors.citizen(account, step_up_at=STEPPED_UP), order=attempt.order, openid="oTestOpenid", now=FEE_NOW).attempt
    assert PaymentAttempt.objects.get(pk=attempt.pk).state == AttemptState.CLOSED
    h2, b2 = notification(out_trade_no=second.out_trade_no, transaction_id="4200000005", amount_fen=87420, now=FEE_NOW)
    assert _handle(h2, b2) == NotificationOutcome.CREDITED
    h1, b1 = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000006", amount_fen=87420, now=FEE_NOW)
    assert _handle(h1, b1) == NotificationOutcome.DOUBLE_PAYMENT
    assert TaxReceipt.objects.count() == 1
    assert PaymentAttempt.objects.get(pk=attempt.pk).state == AttemptState.DUPLICATE  # kept for refund, never credited


def test_notify_endpoint_answers_channel_contract(attempt, client):
    headers, body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000007", amount_fen=87420, now=FEE_NOW)
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    ok = client.post("/api/pay/wechatpay/notify", data=body, content_type="application/json", **meta)
    assert ok.status_code == 204 and ok.content == b""
    again = client.post("/api/pay/wechatpay/notify", data=body, content_type="application/json", **meta)
    assert again.status_code == 204
    bad_h, bad_b = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000008", amount_fen=87420, now=FEE_NOW,
                                corrupt_signature=True)
    bad = client.post("/api/pay/wechatpay/notify", data=bad_b, content_type="application/json",
                      **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in bad_h.items()})
    assert bad.status_code == 401 and bad.json() == {"code": "FAIL", "message": "失败"}
    assert TaxReceipt.objects.count() == 1


@pytest.mark.postgres_only
def test_fifty_concurrent_copies_give_exactly_one_tax_receipt(attempt):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks; SQLite serialises writers")
    # fifty deliveries of the payment, each signed afresh (as WeChat Pay's retries are): no replay
    copies = [notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000050", amount_fen=87420, now=FEE_NOW)
              for _ in range(50)]
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def deliver(headers, body):
        try:
            barrier.wait()
            outcomes.append(_handle(headers, body))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=copy) for copy in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["credited"] + ["duplicate"] * 49
    assert TaxReceipt.objects.count() == 1
    assert PaymentAttempt.objects.filter(state="paid").count() == 1
    assert ArchiveRecord.objects.filter(business_type="payment").count() == 1
    assert PaymentOrder.objects.get().state == "paid"


@pytest.mark.postgres_only
def test_concurrent_replays_of_one_signed_notification_are_handled_once(attempt):
    """Eight simultaneous copies of one signed message (same Wechatpay-Nonce): the unique nonce
    lets exactly one be handled; the seven others are refused as replays, recorded, and credit nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL concurrency; SQLite serialises writers")
    headers, body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000051", amount_fen=87420, now=FEE_NOW)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def deliver():
        try:
            barrier.wait(timeout=30)
            outcomes.append(_handle(headers, body))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["credited"] + ["replayed"] * 7
    assert sorted(PaymentNotification.objects.values_list("outcome", flat=True)) == ["credited"] + ["replayed"] * 7
    assert TaxReceipt.objects.count() == 1 and NotificationNonce.objects.count() == 1


def test_replay_is_answered_204_and_recorded_and_old_nonces_are_pruned(attempt, client):
    headers, body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000052", amount_fen=87420, now=FEE_NOW)
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    assert client.post("/api/pay/wechatpay/notify", data=body, content_type="application/json", **meta).status_code == 204
    replay = client.post("/api/pay/wechatpay/notify", data=body, content_type="application/json", **meta)
    assert replay.status_code == 204 and replay.content == b""
    assert list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True)) == ["credited", "replayed"]
    assert TaxReceipt.objects.count() == 1
    assert services.notification_nonces_prune(now=FEE_NOW + services.NONCE_KEEP) == 0  # still inside the window
    assert services.notification_nonces_prune(now=FEE_NOW + services.NONCE_KEEP + dt.timedelta(seconds=1)) == 1


def test_payment_for_declarations_voided_meanwhile_is_kept_as_money_to_refund(attempt, client):
    """The core refuses the credit (the declarations were voided after the bill was made): the
    notification is answered success (the money is accounted for), the attempt is REFUND_DUE,
    the bill can no longer be paid, and no receipt is issued. Before the fix: HTTP 500 forever."""
    order = attempt.order
    core = get_core()
    for no in order.declaration_nos:
        core.declaration_void(registration_no=order.registration_no, declaration_no=no, reason="社保经办机构作废", now=FEE_NOW)
    headers, body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000053", amount_fen=87420, now=FEE_NOW)
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    answer = client.post("/api/pay/wechatpay/notify", data=body, content_type="application/json", **meta)
    assert answer.status_code == 204
    fresh = PaymentAttempt.objects.get(pk=attempt.pk)
    assert (fresh.state, fresh.transaction_id) == (AttemptState.REFUND_DUE, "4200000053")
    assert PaymentOrder.objects.get(pk=order.pk).state == "cancelled" and TaxReceipt.objects.count() == 0
    assert PaymentNotification.objects.get().outcome == NotificationOutcome.REFUND_DUE
    retry_headers, retry_body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000053", amount_fen=87420, now=FEE_NOW)
    assert _handle(retry_headers, retry_body) == NotificationOutcome.DUPLICATE  # the channel's retry changes nothing


@pytest.mark.parametrize(("field", "kwargs", "outcome", "detail"), [
    ("currency", {"currency": "USD"}, NotificationOutcome.MISMATCH, "currency"),
    ("amount", {"amount_fen": 87419}, NotificationOutcome.WRONG_AMOUNT, "amount"),
    ("appid", {"overrides": {"appid": "wxOTHERAPPID00000"}}, NotificationOutcome.REJECTED, "merchant_mismatch"),
    ("mchid", {"overrides": {"mchid": "1900000999"}}, NotificationOutcome.REJECTED, "merchant_mismatch"),
    ("out_trade_no", {"out_trade_no": "SBNOSUCHORDER0000009"}, NotificationOutcome.UNKNOWN_ORDER, ""),
])
def test_signed_notification_contradicting_the_bill_credits_nothing_and_is_recorded(attempt, client, caplog, field, kwargs, outcome, detail):
    """Each field the bill fixes, wrong in an otherwise valid signed SUCCESS notification: the bill stays
    unpaid, the notification is recorded with why, WeChat Pay gets a FAIL (it retries; an alert is raised)."""
    args = {"out_trade_no": attempt.out_trade_no, "transaction_id": "4200000060", "amount_fen": 87420, "now": FEE_NOW} | kwargs
    headers, body = notification(**args)
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    with caplog.at_level(logging.ERROR):
        answer = client.post("/api/pay/wechatpay/notify", data=body, content_type="application/json", **meta)
        retry_headers, retry_body = notification(**args)  # WeChat Pay re-signs each retry (new nonce)
        assert _handle(retry_headers, retry_body) == outcome  # the retry: same refusal, still nothing credited
    assert answer.status_code in (400, 401) and answer.json() == {"code": "FAIL", "message": "失败"}
    assert TaxReceipt.objects.count() == 0 and PaymentOrder.objects.get().state == "open"
    assert PaymentAttempt.objects.get().state == AttemptState.CREATED
    records = list(PaymentNotification.objects.values_list("outcome", "detail"))
    assert len(records) == 2 and all(o == outcome and detail in d for o, d in records)
    assert not any("oTestOpenid" in r.getMessage() or "oTestOpenid" in str(r.__dict__) for r in caplog.records)


def test_currency_mismatch_is_not_credited_by_a_query_either(attempt):
    from shebao.adapters.payment.port import ChannelTransaction
    txn = ChannelTransaction(out_trade_no=attempt.out_trade_no, transaction_id="4200000061", state="SUCCESS", amount_fen=87420,
                             success_time=FEE_NOW, bank_type="OTHERS", payer_openid=None, currency="USD")
    assert services.payment_credit(attempt=attempt, txn=txn, now=FEE_NOW, source="query") == NotificationOutcome.MISMATCH
    assert PaymentOrder.objects.get().state == "open" and TaxReceipt.objects.count() == 0


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(("where", "depth", "detail"), [
    ("envelope", 50_000, "malformed: body too large"),  # 100 KB: refused on size, never parsed
    ("envelope", 30_000, "malformed: envelope"),        # 60 KB, under the cap: json raises RecursionError
    ("resource", 50_000, "malformed: body too large"),  # the encrypted 100 KB resource makes the body too large
    ("resource", 15_000, "malformed: transaction"),     # decrypted plaintext nested too deep: RecursionError
])
def test_deeply_nested_signed_notification_is_refused_cleanly_and_recorded(attempt, client, where, depth, detail):
    kwargs = {"raw_body": _nested(depth)} if where == "envelope" else {"plaintext": _nested(depth)}
    headers, body = notification(out_trade_no=attempt.out_trade_no, transaction_id="4200000070", amount_fen=87420, now=FEE_NOW, **kwargs)
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    answer = client.post("/api/pay/wechatpay/notify", data=body, content_type="application/json", **meta)
    assert answer.status_code == 400 and answer.json() == {"code": "FAIL", "message": "失败"}
    note = PaymentNotification.objects.get()
    assert note.outcome == NotificationOutcome.MALFORMED and note.detail == detail
    assert PaymentOrder.objects.get().state == "open" and TaxReceipt.objects.count() == 0
