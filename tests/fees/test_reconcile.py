"""Reconciliation: every injected break is classified, none is silently fixed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

from shebao.adapters.payment.port import StatementLine
from shebao.fees.reconcile import compare

T = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def _attempt(no, txn, amount, state="paid", order="o1"):
    return SimpleNamespace(out_trade_no=no, transaction_id=txn, amount=Decimal(amount), state=state, failure_reason="",
                           order=SimpleNamespace(public_id=order))


def _line(no, txn, fen, state="SUCCESS"):
    return StatementLine(transaction_id=txn, out_trade_no=no, amount_fen=fen, state=state, success_time=T)


def test_balanced_day_has_no_difference():
    assert compare(statement=[_line("A", "t1", 87420)], attempts=[_attempt("A", "t1", "874.20")], receipts={"o1": "33"}) == []


def test_each_break_is_classified():
    statement = [_line("A", "t1", 87420), _line("B", "t2", 100), _line("C", "t3", 999)]
    attempts = [
        _attempt("A", "t1", "874.20", order="oa"),           # fine
        _attempt("C", "t3", "9.98", order="oc"),             # amount mismatch
        _attempt("D", "t4", "5.00", order="od"),             # missing at channel, and no tax receipt
        _attempt("E", "t5", "5.00", state="duplicate", order="oa"),  # double payment
    ]
    diffs = compare(statement=statement, attempts=attempts, receipts={"oa": "33a", "oc": "33c", "od": None})
    assert sorted((d.kind, d.out_trade_no) for d in diffs) == [
        ("amount_mismatch", "C"), ("double_payment", "E"), ("missing_at_channel", "D"), ("missing_at_us", "B"),
        ("no_tax_receipt", "D"),
    ]


def _refund(no, amount, state="succeeded", *, attempt_no="E", reason=""):
    return SimpleNamespace(out_refund_no=no, amount=Decimal(amount), state=state, failure_reason=reason,
                           attempt=SimpleNamespace(out_trade_no=attempt_no, transaction_id="t5"), get_state_display=lambda: state)


def _refund_line(no, out_refund_no, fen):
    return StatementLine(transaction_id="t5", out_trade_no=no, amount_fen=fen, state="REFUND", success_time=T, out_refund_no=out_refund_no)


def test_a_refund_line_is_not_a_payment_and_matches_our_refund():
    refunded = _attempt("E", "t5", "5.00", state="refunded", order="oa")  # the duplicate, now refunded: no longer a difference
    statement = [_line("A", "t1", 87420), _line("E", "t5", 500), _refund_line("E", "RFE", 500)]
    assert compare(statement=statement, attempts=[_attempt("A", "t1", "874.20", order="oa"), refunded], receipts={"oa": "33a"},
                   refunds=[_refund("RFE", "5.00")]) == []


def test_refund_breaks_are_classified():
    statement = [_refund_line("E", "RFE", 499), _refund_line("X", "RFX", 100)]  # a wrong amount; a refund we never asked for
    refunds = [_refund("RFE", "5.00"), _refund("RFG", "3.00", "abnormal", attempt_no="G", reason="退款异常，银行卡或零钱账户无法入账")]
    diffs = compare(statement=statement, attempts=[], receipts={}, refunds=refunds)
    assert sorted((d.kind, d.out_trade_no) for d in diffs) == [
        ("refund_failed", "G"), ("refund_missing_at_channel", "E"), ("refund_unknown", "E"), ("refund_unknown", "X"),
    ]
    failed = next(d for d in diffs if d.kind == "refund_failed")
    assert failed.detail == "退款单 RFG，3.00 元：退款异常，银行卡或零钱账户无法入账，请在支付渠道商户平台人工处理"


@pytest.mark.django_db(transaction=True)
def test_reconcile_command_against_the_simulator(client, sims, clock, demo_people, capsys):
    from tests.fees.helpers import FEE_NOW, cashier, declare, identify_wechat, logged_in, order_id_from, start_payment

    logged_in(client, sims, clock, "450103198506011239", "Demo@2026")
    sims.control("wxpay", notify="none")
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-02", period_to="2026-02", base="4371.00"))
    identify_wechat(client, order_id)
    back = cashier(start_payment(client, order_id), "pay")
    client.get(back.split("?")[0].replace(sims.url, ""))
    clock.advance(days=1)  # the channel's bill of a day is ready the next day
    call_command("reconcile", "--date", FEE_NOW.date().isoformat())
    out = capsys.readouterr().out
    assert "渠道账单 1 笔，本系统入账 1 笔" in out and "对账平衡" in out

    # a payment the channel has but we never credited (e.g. lost notification, nobody returned)
    clock.now = FEE_NOW + dt.timedelta(minutes=5)  # paid on the same day as the first
    order2 = order_id_from(declare(client, sims, types=["10212-FLEX"], year=2026, period_from="2026-02", period_to="2026-02",
                                   base="4371.00", idem="rec-2"))
    cashier(start_payment(client, order2), "pay")
    clock.advance(days=1)
    with pytest.raises(CommandError, match="1 处差异"):
        call_command("reconcile", "--date", FEE_NOW.date().isoformat())
    assert "渠道有记录、我方未入账" in capsys.readouterr().out
    from shebao.fees.models import PaymentOrder

    assert PaymentOrder.objects.get(public_id=order2).state == "open"  # reported, not fixed


def test_refund_due_is_listed_not_missing():
    diffs = compare(statement=[_line("R", "t9", 87420)], attempts=[_attempt("R", "t9", "874.20", state="refund_due", order="or")],
                    receipts={})
    assert [(d.kind, d.label, d.out_trade_no) for d in diffs] == [("refund_due", "已扣款未入账待退款", "R")]


@pytest.mark.django_db(transaction=True)
def test_reconcile_command_lists_a_payment_the_core_refused_as_money_to_refund(client, sims, clock, demo_people, capsys):
    """Paid at the channel, but the declarations were voided before the payment was credited:
    the return query keeps it as REFUND_DUE (no HTTP 500) and ``manage.py reconcile`` lists it."""
    from shebao.adapters.core import get_core
    from shebao.fees.models import PaymentAttempt, PaymentOrder
    from tests.fees.helpers import FEE_NOW, cashier, declare, identify_wechat, logged_in, order_id_from, start_payment

    logged_in(client, sims, clock, "450103198506011239", "Demo@2026")
    sims.control("wxpay", notify="none")
    order_id = order_id_from(declare(client, sims, types=["10210-FLEX"], year=2026, period_from="2026-02", period_to="2026-02", base="4371.00"))
    identify_wechat(client, order_id)
    back = cashier(start_payment(client, order_id), "pay")
    order = PaymentOrder.objects.get(public_id=order_id)
    for no in order.declaration_nos:
        get_core().declaration_void(registration_no=order.registration_no, declaration_no=no, reason="经办机构作废", now=FEE_NOW)
    returned = client.get(back.split("?")[0].replace(sims.url, ""))
    assert returned.status_code == 302
    assert "款项将原路退回" in client.get(returned["Location"]).content.decode()  # told, in Chinese, not "not paid"
    assert PaymentAttempt.objects.get().state == "refund_due" and PaymentOrder.objects.get().state == "cancelled"
    clock.advance(days=1)
    with pytest.raises(CommandError, match="1 处差异"):
        call_command("reconcile", "--date", FEE_NOW.date().isoformat())
    out = capsys.readouterr().out
    assert "渠道账单 1 笔，本系统入账 1 笔" in out and "[已扣款未入账待退款]" in out and "874.20 元待退款" in out
