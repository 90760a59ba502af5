"""Special refunds (by a receipt of the special form, whole; by a refund assessment sheet,
the assessed part), the summed base of a period declared twice, and the virtual-account
mode (REQUIREMENTS §2.3, issue 10), on the demo data of each case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from shebao.core.models import Payer, RefundSheet
from shebao.refunds import selectors, services
from shebao.refunds.models import RefundApplication, RefundItemBalance, RefundKind, RefundLedgerEntry
from shebao.refunds.services import RefundAccount, RefundError
from tests import actors
from tests.concurrency import run_together
from tests.refunds.helpers import PENSION, account_named, card_number, demo_sheet_entry, registration_of

pytestmark = pytest.mark.django_db
VA = "XN451002000000000001"


def _to(account) -> RefundAccount:
    return RefundAccount(bank_code="102", account_number=card_number(), holder_name=account.name)


def _special(account, clock, *, key="s1", **kwargs):
    return services.refund_apply_special(actor=actors.citizen(account, step_up_at=clock.now), registration_no=registration_of(account),
                                         to=_to(account), idempotency_key=key, now=clock.now, **kwargs)


def _normal(account, clock, period, *, key="n1", code=PENSION, virtual_account=""):
    return services.refund_apply_normal(actor=actors.citizen(account, step_up_at=clock.now), registration_no=registration_of(account),
                                        insurance_type_code=code, period=period, to=_to(account), idempotency_key=key, now=clock.now,
                                        virtual_account=virtual_account)


def _nothing_stored():
    assert (RefundApplication.objects.count(), RefundLedgerEntry.objects.count()) == (0, 0)


def test_a_period_declared_twice_refunds_with_the_summed_base(refund_demo, clock):
    account = account_named("覃丽华")
    choice = next(c for c in selectors.normal_refund_choices(registration_no=registration_of(account)) if c.item.period == "202511")
    assert (choice.item.base_amount, choice.item.paid_amount, len(choice.item.receipt_nos)) == (
        Decimal("6000.00"), Decimal("1200.00"), 2)
    application = _normal(account, clock, "202511")
    assert (application.base_amount, application.amount, application.kind) == (Decimal("6000.00"), Decimal("1200.00"), "normal")


def test_special_fees_are_refunded_whole_by_their_receipt_and_not_as_normal(refund_demo, clock):
    account = account_named("莫振华")
    with pytest.raises(RefundError, match="特殊缴费退费申请"):
        _normal(account, clock, "202512")
    _nothing_stored()
    (choice,) = [c for c in selectors.special_refund_choices(registration_no=registration_of(account)) if c.item.period == "202512"]
    assert choice.refusal is None and choice.item.special
    application = _special(account, clock, insurance_type_code=PENSION, period="202512")
    assert (application.kind, application.amount, application.sheet_no) == (RefundKind.SPECIAL, choice.item.paid_amount, "")
    assert application.state == "submitted"


def test_ordinary_fees_have_no_special_refund_by_receipt(refund_demo, clock):
    account = account_named("覃丽华")
    with pytest.raises(RefundError, match="正常缴费退费申请"):
        _special(account, clock, insurance_type_code=PENSION, period="202512")
    _nothing_stored()


def test_a_refund_by_assessment_sheet_takes_the_assessed_part_once(refund_demo, clock):
    account = account_named("覃丽华")
    application = _special(account, clock, sheet=demo_sheet_entry())
    assert (application.kind, application.amount, application.paid_amount, application.sheet_no) == (
        RefundKind.SPECIAL, Decimal("300.00"), Decimal("1000.00"), "HD45010020251201")
    assert application.sheet["handler"] == "覃明" and application.sheet["assessed_on"] == "2026-01-15"
    assert RefundItemBalance.objects.get(period="202512").committed == Decimal("300.00")
    with pytest.raises(RefundError, match="已申请过退费|正在办理"):
        _special(account, clock, key="s2", sheet=demo_sheet_entry())
    assert RefundApplication.objects.count() == 1


@pytest.mark.parametrize(("changes", "words"), [
    ({"amount": Decimal("310.00")}, "核定退费金额"),
    ({"handler": "李四", "reason": "其他"}, "退费原因、核定日期|退费原因"),
    ({"period": "202511"}, "费款所属期"),
    ({"sheet_no": "HD45010020259999"}, "未查询到该核定退费单"),
])
def test_a_sheet_not_as_issued_is_refused_and_nothing_is_stored(refund_demo, clock, changes, words):
    with pytest.raises(RefundError, match=words):
        _special(account_named("覃丽华"), clock, sheet=demo_sheet_entry(**changes))
    _nothing_stored()


def test_another_persons_sheet_is_unknown(refund_demo, clock):
    with pytest.raises(RefundError, match="未查询到该核定退费单"):
        _special(account_named("莫振华"), clock, sheet=demo_sheet_entry(period="202512"))
    _nothing_stored()


def test_without_a_receipt_the_resident_is_pointed_to_the_virtual_account_mode(refund_demo, clock):
    account = account_named("农秀英")
    assert selectors.normal_refund_choices(registration_no=registration_of(account)) == []
    with pytest.raises(RefundError, match="未查询到该险种该所属期的缴费记录"):
        _normal(account, clock, "202601", code="10212-RES")


def test_the_resident_refunds_only_what_the_virtual_account_declared_for_them(refund_demo, clock):
    account = account_named("农秀英")
    (choice,) = selectors.normal_refund_choices(registration_no=registration_of(account), virtual_account=VA)
    assert (choice.item.insurance_type_code, choice.item.paid_amount, choice.item.virtual_account) == ("10212-RES", Decimal("400.00"), VA)
    assert choice.period_label == "2026年度"
    application = _normal(account, clock, "202601", code="10212-RES", virtual_account=VA)
    assert (application.virtual_account_id, application.virtual_account_name, application.amount) == (
        VA, "百色市右江区龙景街道东增社区居民委员会", Decimal("400.00"))
    # the other resident of the same virtual account: her own line is still there, whole and refundable
    other = next(p.registration_no for p in Payer.objects.all() if p.name == "罗桂兰")  # a core payer without an account here
    before = [(c.item.paid_amount, c.refusal) for c in selectors.normal_refund_choices(registration_no=other, virtual_account=VA)]
    assert RefundItemBalance.objects.filter(registration_no=other).count() == 0
    assert before == [(Decimal("400.00"), None)]


def test_an_unknown_virtual_account_is_refused(refund_demo, clock):
    with pytest.raises(RefundError, match="未查询到该虚拟户识别号"):
        _normal(account_named("农秀英"), clock, "202601", code="10212-RES", virtual_account="XN999999999999999999")
    _nothing_stored()


def test_a_person_on_the_no_refund_list_is_refused(refund_demo, clock):
    account = account_named("李秀兰")
    with pytest.raises(RefundError, match="不予退费特殊人员"):
        _special(account, clock, sheet=demo_sheet_entry())
    _nothing_stored()


def test_the_fuzzy_search_is_capped_literal_and_refuses_short_or_long_words(refund_demo):
    assert [va.identifier for va in selectors.virtual_account_search("那况村")] == ["XN450102000000000002"]
    assert len(selectors.virtual_account_search("委员会")) == 2
    for bad, words in (("", "请输入"), ("村", "至少"), ("村" * 31, "不超过")):
        with pytest.raises(RefundError, match=words):
            selectors.virtual_account_search(bad)
    assert selectors.virtual_account_search("%%") == [] and selectors.virtual_account_search("__") == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_partial_special_refunds_of_sixty_percent_give_exactly_one(refund_demo, clock):
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL row locks and concurrent writers; the database here is {connection.vendor}")
    account = account_named("覃丽华")
    demo = RefundSheet.objects.get(sheet_no="HD45010020251201")
    part = (demo.paid_amount * Decimal("0.6")).quantize(Decimal("0.01"))
    sheets = []
    for n in range(8):
        RefundSheet.objects.create(sheet_no=f"HD4501002025129{n}", payer=demo.payer, agency=demo.agency, insurance_type=demo.insurance_type,
                                   period=demo.period, paid_amount=demo.paid_amount, amount=part, reason=demo.reason,
                                   assessed_on=demo.assessed_on, handler=demo.handler)
        sheets.append(demo_sheet_entry(sheet_no=f"HD4501002025129{n}", amount=part))
    made, refused, errors = run_together(lambda n: _special(account, clock, key=f"tap-{n}", sheet=sheets[n]).pk, 8,
                                         expected=RefundError)
    assert errors == [] and len(made) == 1 and len(refused) == 7, refused
    assert RefundItemBalance.objects.get(period="202512").committed == part
    assert list(RefundLedgerEntry.objects.values_list("kind", "amount")) == [("reserve", part)]


def test_the_refund_demo_data_loads_once_however_often_seeded(refund_demo):
    from shebao.core.models import DeclarationLine, NoRefundPerson, VirtualAccount, VirtualDeclarationLine

    assert RefundSheet.objects.count() == 1 and VirtualAccount.objects.count() == 3
    assert VirtualDeclarationLine.objects.count() == 3 and NoRefundPerson.objects.count() == 1
    assert DeclarationLine.objects.filter(supplementary=True).count() == 1


def test_the_follow_refunds_command_decides_what_is_due_as_of_a_moment(refund_demo, clock, capsys):
    import datetime as dt

    from django.core.management import CommandError, call_command

    application = _special(account_named("覃丽华"), clock, sheet=demo_sheet_entry())
    with pytest.raises(CommandError, match="不早于当前时间"):
        call_command("follow_refunds", "--as-of", "2020-01-01T10:00+08:00")
    call_command("follow_refunds")
    assert "办结 0 笔" in capsys.readouterr().out
    call_command("follow_refunds", "--as-of", (application.next_expected_at + dt.timedelta(minutes=1)).isoformat())
    assert "办结 1 笔，更新退费申请 1 笔" in capsys.readouterr().out
    application.refresh_from_db()
    assert application.state == "succeeded" and application.decision_label == "同意退费"


def test_after_a_partial_refund_by_sheet_the_item_is_no_longer_refunded_whole(refund_demo, clock):
    from shebao.refunds.services import refunds_follow_up

    account = account_named("覃丽华")
    application = _special(account, clock, sheet=demo_sheet_entry())
    refunds_follow_up(now=application.next_expected_at + dt.timedelta(minutes=1))
    assert RefundApplication.objects.get(pk=application.pk).state == "succeeded"
    choice = next(c for c in selectors.normal_refund_choices(registration_no=registration_of(account)) if c.item.period == "202512")
    assert choice.refusal == "该险种该所属期已部分退费（已退 300.00 元），不能再全额退费；其余部分请按核定退费单办理特殊缴费退费"
    with pytest.raises(RefundError, match="已部分退费"):
        services.refund_apply_normal(actor=actors.citizen(account, step_up_at=clock.now), registration_no=registration_of(account),
                                     insurance_type_code=PENSION, period="202512", to=_to(account), idempotency_key="n-after",
                                     now=clock.now)
    assert RefundApplication.objects.count() == 1
