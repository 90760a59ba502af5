"""The embedded core records a payment once: the declarations move to 已缴费 together (one
UPDATE and one history INSERT for all of them), a retry of the same payment returns the
same tax receipt, and anything else on a paid or voided declaration is a conflict that
changes nothing. ``transition_locked_rows`` on its own: checks every row before it writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from shebao.adapters.core import get_core
from shebao.adapters.core.port import CoreConflict, DeclarationRequest
from shebao.common.states import StateTransition, TransitionError, transition_locked_rows
from shebao.core.models import Declaration, DeclarationState, Payer, TaxReceipt

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


def _declare(registration_no: str, months: list[str]) -> list[str]:
    requests = [
        DeclarationRequest(insurance_type_code=code, contribution_year=2026, period_from=months[0], period_to=months[-1],
                           base_amount=Decimal("4371.00"), rate=rate, rule_refs=(),
                           lines=tuple((m, (Decimal("4371.00") * rate).quantize(Decimal("0.01"))) for m in months))
        for code, rate in (("10210-FLEX", Decimal("0.20")), ("10212-FLEX", Decimal("0.08")))
    ]
    return [d.declaration_no for d in get_core().declaration_submit(registration_no=registration_no, requests=requests, now=NOW)]


@pytest.fixture
def payer(demo_people):
    return Payer.objects.filter(enrolments__insurance_type__code="10210-FLEX").distinct().first()


def _record(payer, nos, *, txn="4200000001", amount=Decimal("1223.88")):
    with transaction.atomic():
        return get_core().payment_record(registration_no=payer.registration_no, declaration_nos=nos, channel="wechatpay",
                                         transaction_id=txn, amount=amount, paid_at=NOW)


def test_payment_moves_every_declaration_in_one_update_with_history(payer):
    nos = _declare(payer.registration_no, ["202603"])
    with CaptureQueriesContext(connection) as queries:
        info = _record(payer, nos)
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum(s.startswith('UPDATE "core_declaration"') for s in sql) == 1
    assert sum(s.startswith('INSERT INTO "common_statetransition"') for s in sql) == 1
    assert not any('"source_ref" =' in s for s in sql)  # the "recorded before?" look-up only when something is not 申报
    decls = Declaration.objects.filter(declaration_no__in=nos)
    assert {d.state for d in decls} == {DeclarationState.PAID}
    assert {d.tax_receipt.receipt_no for d in decls} == {info.receipt_no}
    history = StateTransition.objects.filter(model="core.declaration", object_ref__in=[d.public_id for d in decls])
    assert sorted((h.from_state, h.to_state, h.actor_ref) for h in history) == [("declared", "paid", "channel:wechatpay")] * 2
    assert info.amount == Decimal("1223.88")


def test_the_same_payment_again_gives_the_same_receipt_and_nothing_new(payer):
    nos = _declare(payer.registration_no, ["202604"])
    first = _record(payer, nos)
    transitions = StateTransition.objects.count()
    again = _record(payer, nos)
    assert again.receipt_no == first.receipt_no
    assert TaxReceipt.objects.filter(source_ref="wechatpay:4200000001").count() == 1
    assert StateTransition.objects.count() == transitions


def test_another_payment_of_paid_declarations_is_a_conflict(payer):
    nos = _declare(payer.registration_no, ["202605"])
    _record(payer, nos)
    with pytest.raises(CoreConflict):
        _record(payer, nos, txn="4200000002")
    assert not TaxReceipt.objects.filter(source_ref="wechatpay:4200000002").exists()


def test_a_voided_declaration_stops_the_whole_payment(payer):
    nos = _declare(payer.registration_no, ["202606"])
    get_core().declaration_void(registration_no=payer.registration_no, declaration_no=nos[1], reason="测试", now=NOW)
    with pytest.raises(CoreConflict):
        _record(payer, nos)
    assert Declaration.objects.get(declaration_no=nos[0]).state == DeclarationState.DECLARED
    assert not TaxReceipt.objects.exists()


def test_transition_locked_rows_checks_every_row_before_writing(payer):
    nos = _declare(payer.registration_no, ["202607"])
    with transaction.atomic():
        rows = list(Declaration.objects.select_for_update().filter(declaration_no__in=nos).order_by("pk"))
        rows[1].state = DeclarationState.VOIDED  # as if it had been voided: may not become 已缴费
        before = StateTransition.objects.count()
        with pytest.raises(TransitionError):
            transition_locked_rows(rows, DeclarationState.PAID, actor_ref="test", reason="x", now=NOW)
        assert StateTransition.objects.count() == before
        assert set(Declaration.objects.filter(declaration_no__in=nos).values_list("state", flat=True)) == {DeclarationState.DECLARED}
        with pytest.raises(TypeError):
            transition_locked_rows([rows[0], payer], DeclarationState.PAID, actor_ref="test", reason="x", now=NOW)
        transition_locked_rows([], DeclarationState.PAID, actor_ref="test", reason="x", now=NOW)  # nothing to do
        transition_locked_rows(rows[:1], DeclarationState.VOIDED, actor_ref="test", reason="作废", now=NOW)
    assert rows[0].state == DeclarationState.VOIDED
    assert Declaration.objects.get(pk=rows[0].pk).state == DeclarationState.VOIDED
