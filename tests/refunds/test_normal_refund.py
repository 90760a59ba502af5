"""Normal refunds (REQUIREMENTS §2.3, issue 10): one insurance item of one period, whole;
refused with the reason when it may not be, and then nothing is stored; tracked to the
core's 退库 decision by the job; every movement in the append-only ledger."""

from __future__ import annotations

import datetime as dt

import pytest

from shebao.archive.integrity import AppendOnlyError
from shebao.archive.models import ArchiveRecord
from shebao.audit.models import AuditEvent
from shebao.common.crypto import random_token
from shebao.core.models import NoRefundPerson, Payer
from shebao.refunds import services
from shebao.refunds.models import RefundApplication, RefundItemBalance, RefundLedgerEntry
from shebao.refunds.services import RefundAccount, RefundError, refunds_follow_up
from tests import actors
from tests.refunds.helpers import MONTHLY, PENSION, card_number, demo_account, pay_months

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(demo_people, clock):
    account = demo_account()
    reg = pay_months(account, [3, 4], year=2026, now=clock.now)
    return account, reg


def _apply(account, reg, clock, *, period="202603", to=None, key="k1", step_up=True):
    actor = actors.citizen(account, step_up_at=clock.now if step_up else None)
    to = to or RefundAccount(bank_code="102", account_number=card_number(), holder_name=account.name)
    return services.refund_apply_normal(actor=actor, registration_no=reg, insurance_type_code=PENSION, period=period, to=to,
                                        idempotency_key=key, now=clock.now)


def _nothing_stored():
    assert (RefundApplication.objects.count(), RefundLedgerEntry.objects.count()) == (0, 0)
    assert not RefundItemBalance.objects.filter(committed__gt=0).exists()


def test_a_normal_refund_is_the_whole_paid_amount_submitted_archived_and_audited(paid, clock):
    account, reg = paid
    application = _apply(account, reg, clock)
    assert (application.state, application.amount, application.paid_amount, application.base_amount) == (
        "submitted", MONTHLY, MONTHLY, application.base_amount)
    assert application.core_refund_no and application.next_expected_at > clock.now
    assert application.account_masked.endswith(card_number()[-4:]) and "*" in application.account_masked
    assert RefundItemBalance.objects.get().committed == MONTHLY
    assert list(RefundLedgerEntry.objects.values_list("kind", "amount")) == [("reserve", MONTHLY)]
    assert ArchiveRecord.objects.filter(business_type="refund", business_ref=application.application_no).count() == 1
    assert AuditEvent.objects.filter(action="refund.apply", subject_ref=application.public_id).count() == 1
    assert _apply(account, reg, clock).pk == application.pk  # the same key again: the same application


def test_the_job_takes_the_cores_decision_once(paid, clock):
    account, reg = paid
    application = _apply(account, reg, clock)
    assert refunds_follow_up(now=clock.now) == {"submitted": 0, "decided_at_core": 0, "taken": 0}  # not due yet
    later = application.next_expected_at + dt.timedelta(minutes=1)
    assert refunds_follow_up(now=later) == {"submitted": 0, "decided_at_core": 1, "taken": 1}
    assert refunds_follow_up(now=later) == {"submitted": 0, "decided_at_core": 0, "taken": 0}  # run again: nothing twice
    done = RefundApplication.objects.get()
    assert (done.state, done.decided_at is not None, done.next_expected_at) == ("succeeded", True, None)
    assert list(RefundLedgerEntry.objects.order_by("pk").values_list("kind", "amount")) == [("reserve", MONTHLY), ("refund", MONTHLY)]
    with pytest.raises(RefundError, match="已全额退费"):
        _apply(account, reg, clock, key="k2")


def test_a_failed_refund_releases_the_item_with_the_reason(paid, clock, settings):
    account, reg = paid
    application = _apply(account, reg, clock)
    settings.CORE_EMBEDDED = {"REFUND_FAILURE": "收款账户已销户"}
    refunds_follow_up(now=application.next_expected_at)
    failed = RefundApplication.objects.get()
    assert (failed.state, failed.failure_reason) == ("failed", "收款账户已销户")
    assert RefundItemBalance.objects.get().committed == 0
    assert list(RefundLedgerEntry.objects.order_by("pk").values_list("kind", "amount")) == [("reserve", MONTHLY), ("release", -MONTHLY)]
    settings.CORE_EMBEDDED = {}
    assert _apply(account, reg, clock, key="k2").state == "submitted"  # the item may be refunded again


def test_the_balance_row_follows_a_later_payment_of_the_same_item(paid, clock, settings):
    """The row was made when less had been paid (a refund that failed, then a supplementary
    payment): the next refund is of the whole amount paid now, and the row says so."""
    account, reg = paid
    RefundItemBalance.objects.create(registration_no=reg, insurance_type_code=PENSION, period="202603", paid=MONTHLY - 100)
    application = _apply(account, reg, clock)
    assert application.amount == MONTHLY
    assert RefundItemBalance.objects.values_list("paid", "committed").get() == (MONTHLY, MONTHLY)


def test_without_a_step_up_nothing_is_stored(paid, clock):
    account, reg = paid
    with pytest.raises(services.StepUpRequired):
        _apply(account, reg, clock, step_up=False)
    _nothing_stored()


@pytest.mark.parametrize(("to", "message"), [
    (RefundAccount("999", "6217000000000000", "张三"), "请选择开户银行"),
    (RefundAccount("102", "62170000000000001", "张三"), "银行卡号校验未通过"),
    (RefundAccount("102", "6217-0000", "张三"), "只能包含数字"),
    (RefundAccount("102", "12345", "张三"), "12至25位"),
])
def test_a_bank_account_the_bank_would_refuse_is_refused(paid, clock, to, message):
    account, reg = paid
    to = RefundAccount(to.bank_code, to.account_number if to.account_number != "6217000000000000" else card_number(), account.name)
    with pytest.raises(RefundError, match=message):
        _apply(account, reg, clock, to=to)
    _nothing_stored()


def test_an_account_of_another_holder_is_refused(paid, clock):
    account, reg = paid
    with pytest.raises(RefundError, match="账户名称须与缴费人姓名一致"):
        _apply(account, reg, clock, to=RefundAccount("105", card_number(), "别人"))
    _nothing_stored()


def test_a_person_on_the_no_refund_list_is_refused(paid, clock):
    account, reg = paid
    payer = Payer.objects.get(registration_no=reg)
    NoRefundPerson(public_id=random_token(12), city=payer.city, id_type=payer.id_type, id_index=payer.id_index,
                   id_number=payer.id_number, name=payer.name, reason="测试", added_at=clock.now).save()
    with pytest.raises(RefundError, match="不予退费特殊人员"):
        _apply(account, reg, clock)
    _nothing_stored()


def test_an_item_in_refund_is_refused_and_an_unpaid_one_is_not_found(paid, clock):
    account, reg = paid
    _apply(account, reg, clock)
    with pytest.raises(RefundError, match="已有退费申请正在办理"):
        _apply(account, reg, clock, key="k2")
    with pytest.raises(RefundError, match="未查询到"):
        _apply(account, reg, clock, period="202609", key="k3")
    assert RefundApplication.objects.count() == 1


def test_the_ledger_is_append_only(paid, clock):
    account, reg = paid
    _apply(account, reg, clock)
    entry = RefundLedgerEntry.objects.get()
    entry.amount = 1
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        RefundLedgerEntry.objects.all().delete()


def test_the_application_number_and_the_verify_code_are_letters_and_digits_only(paid, clock):
    """Regression: the number came from URL-safe base64 and could hold "-" or "_" (seen in a file name)."""
    import re

    account, reg = paid
    application = _apply(account, reg, clock)
    assert re.fullmatch(r"TF20\d{6}[A-Z2-9]{10}", application.application_no), application.application_no
    assert re.fullmatch(r"[A-Z2-9]{16}", application.verify_code), application.verify_code
