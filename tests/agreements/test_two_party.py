"""两两协议 (REQUIREMENTS §2.4): for oneself or for another person found at the core by the
three elements, the signer's own card, the bank's check of person and card (simulator over
loopback), at most one deduction-enabled agreement per payer (the partial unique index),
every refusal with nothing changed, cancelling, and the query of both kinds."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, transaction

from shebao.adapters.bank.port import FailReason
from shebao.adapters.bank.simulator import demo_account_no
from shebao.agreements import agreement_services as services
from shebao.agreements.agreement_services import ONE_TWO_PARTY_MESSAGE, AccountEntry, AgreementError, PersonEntry
from shebao.agreements.models import TwoPartyAgreement, TwoPartyState
from shebao.agreements.selectors import agreement_list, two_party_get
from shebao.archive.models import ArchiveRecord
from shebao.audit.models import AuditEvent
from shebao.core.demo_data import demo_id
from tests import actors
from tests.agreements.fakes import FakeBank
from tests.agreements.helpers import LI, WANG, ZHANG, own_card, signer, wang

pytestmark = pytest.mark.django_db


def sign(now, *, person: PersonEntry | None = None, to: AccountEntry | None = None, gateway=None, name: str = ZHANG):
    _, actor, profile = signer(name, now=now)
    return services.two_party_create(actor=actor, profile=profile, person=person, to=to or own_card(name), sign=True, now=now,
                                     gateway=gateway)


def test_for_oneself_the_bank_checks_person_and_card_and_it_becomes_deduction_enabled(demo_people, clock, sims):
    row = sign(clock.now)

    account, _, profile = signer(now=clock.now)
    assert re.fullmatch(r"LL20260302\d{10}", row.agreement_no)
    assert (row.for_self, row.registration_no, row.payer_name, row.id_number) == (True, profile.registration_no, ZHANG,
                                                                                  account.id_number)
    assert (row.state, row.activated_at) == (TwoPartyState.ACTIVE, clock.now)
    assert ArchiveRecord.objects.get(business_type="agreement").payer_signature.startswith("sm2-confirm:")
    assert list(AuditEvent.objects.order_by("pk").values_list("action", "outcome")) == [
        ("agreement.two_party.create", "success"), ("agreement.two_party.bank_check", "success")]


def test_for_another_person_found_at_the_core_with_the_signers_own_card(demo_people, clock, sims):
    row = sign(clock.now, person=wang())

    assert (row.for_self, row.payer_name, row.id_number, row.account_name, row.state) == (
        False, WANG[0], demo_id(WANG), ZHANG, TwoPartyState.ACTIVE)


def test_a_card_the_bank_holds_under_another_name_fails_with_a_plain_reason(demo_people, clock, sims):
    lis_card = AccountEntry(bank_code="102", account_number=own_card(LI).account_number, account_name=ZHANG)

    row = sign(clock.now, to=lis_card)

    assert (row.state, row.failure_reason) == (TwoPartyState.FAILED, "账户名称与银行预留的户名不一致，请核对后重新填写")


def test_a_failed_agreement_does_not_stop_a_new_one(demo_people, clock):
    failed = sign(clock.now, gateway=FakeBank(reason=FailReason.ACCOUNT_CLOSED))
    again = sign(clock.now, gateway=FakeBank())

    assert (failed.state, failed.failure_reason) == (TwoPartyState.FAILED, "该银行账户已销户或不可用，请更换其他账户")
    assert again.state == TwoPartyState.ACTIVE


def test_a_bank_that_cannot_answer_leaves_it_pending_and_a_later_check_decides(demo_people, clock):
    row = sign(clock.now, gateway=FakeBank(unavailable=True))
    _, actor, _ = signer(now=clock.now)

    checked = services.two_party_bank_check(actor=actor, agreement=row, now=clock.now, gateway=FakeBank())

    assert row.state == TwoPartyState.PENDING
    assert checked.state == TwoPartyState.ACTIVE


@pytest.mark.parametrize("first_bank", [FakeBank(), FakeBank(unavailable=True)], ids=["active", "pending"])
def test_a_second_deduction_enabled_agreement_for_the_same_payer_is_refused(demo_people, clock, first_bank):
    sign(clock.now, person=wang(), gateway=first_bank)

    with pytest.raises(AgreementError, match=ONE_TWO_PARTY_MESSAGE):
        sign(clock.now, person=wang(), name=LI, to=own_card(LI), gateway=FakeBank())
    assert TwoPartyAgreement.objects.count() == 1
    assert ArchiveRecord.objects.filter(business_type="agreement").count() == 1


def test_the_database_itself_refuses_a_second_live_agreement(demo_people, clock):
    row = sign(clock.now, gateway=FakeBank())
    twin = TwoPartyAgreement.objects.get(pk=row.pk)
    twin.pk, twin.public_id, twin.agreement_no, twin.state = None, "other", "LL2", TwoPartyState.PENDING

    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


def test_after_cancelling_the_payer_may_sign_again(demo_people, clock):
    first = sign(clock.now, gateway=FakeBank())
    _, actor, _ = signer(now=clock.now)

    cancelled = services.two_party_cancel(actor=actor, agreement=first, now=clock.now)
    second = sign(clock.now, gateway=FakeBank())

    assert (cancelled.state, cancelled.cancelled_at) == (TwoPartyState.CANCELLED, clock.now)
    assert second.state == TwoPartyState.ACTIVE
    with pytest.raises(AgreementError, match="已解除，不能解除"):
        services.two_party_cancel(actor=actor, agreement=cancelled, now=clock.now)


@pytest.mark.parametrize(("person", "message"), [
    (PersonEntry("201", "450105197809090620", WANG[0]), "校验"),
    (PersonEntry("201", demo_id(WANG), "王"), "姓名"),
    (PersonEntry("201", demo_id(WANG), "王小芳"), "未查询到该人员的参保登记信息"),
])
def test_another_person_with_an_invalid_or_unknown_identity_is_refused(demo_people, clock, person, message):
    with pytest.raises(AgreementError, match=message):
        sign(clock.now, person=person, gateway=FakeBank())

    assert TwoPartyAgreement.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_oneself_entered_as_another_person_is_refused(demo_people, clock):
    account, _, _ = signer(now=clock.now)

    with pytest.raises(AgreementError, match="为本人签约请选择"):
        sign(clock.now, person=PersonEntry(account.id_type, account.id_number, ZHANG), gateway=FakeBank())
    assert TwoPartyAgreement.objects.count() == 0


def test_someone_elses_card_is_refused(demo_people, clock):
    bank = FakeBank()

    with pytest.raises(AgreementError, match="两两协议须使用签约人本人的银行卡"):
        sign(clock.now, person=wang(), to=AccountEntry("102", demo_account_no(6), WANG[0]), gateway=bank)
    assert TwoPartyAgreement.objects.count() == 0
    assert bank.checks == []


def test_a_person_sees_their_agreements_of_both_kinds_and_no_one_elses(demo_people, clock):
    account, actor, profile = signer(now=clock.now)
    three = services.three_party_create(actor=actor, profile=profile, to=own_card(), method="paper", sign=False, now=clock.now)
    two = sign(clock.now, person=wang(), gateway=FakeBank())
    sign(clock.now, name=LI, to=own_card(LI), gateway=FakeBank())

    lines = agreement_list(account=account)

    assert sorted((line.kind_label, line.agreement_no, line.state_label, line.for_self) for line in lines) == sorted([
        ("三方协议", three.agreement_no, "待银行柜面签约", True), ("两两协议", two.agreement_no, "已生效（可扣款）", False)])
    assert all(line.account_masked.startswith("*") for line in lines)
    li = signer(LI, now=clock.now)[0]
    assert two_party_get(account=li, public_id=two.public_id) is None


def test_only_the_signer_or_a_job_may_ask_the_bank_again(demo_people, clock):
    row = sign(clock.now, gateway=FakeBank(unavailable=True))
    _, li, _ = signer(LI, now=clock.now)

    with pytest.raises(AgreementError, match="未找到该协议"):
        services.two_party_bank_check(actor=li, agreement=row, now=clock.now, gateway=FakeBank())
    row.refresh_from_db()
    assert row.state == TwoPartyState.PENDING

    checked = services.two_party_bank_check(actor=actors.system("agreement_checks"), agreement=row, now=clock.now, gateway=FakeBank())
    assert checked.state == TwoPartyState.ACTIVE


def test_the_job_decides_the_pending_agreements_once_the_bank_answers(demo_people, clock):
    waiting = sign(clock.now, gateway=FakeBank(unavailable=True))
    other = sign(clock.now, person=wang(), gateway=FakeBank(unavailable=True))

    too_soon = services.two_party_checks_follow_up(now=clock.now, gateway=FakeBank())
    clock.advance(minutes=5)
    still_down = services.two_party_checks_follow_up(now=clock.now, gateway=FakeBank(unavailable=True))
    bank = FakeBank()
    answered = services.two_party_checks_follow_up(now=clock.now, gateway=bank)

    assert too_soon == {"decided": 0, "still_pending": 0}
    assert still_down == {"decided": 0, "still_pending": 2}
    assert answered == {"decided": 2, "still_pending": 0}
    assert [c.agreement_no for c in bank.checks] == [waiting.agreement_no, other.agreement_no]
    assert set(TwoPartyAgreement.objects.values_list("state", flat=True)) == {"active"}
    assert AuditEvent.objects.filter(action="agreement.two_party.bank_check", actor_ref="system:check_pending_agreements").count() == 2


def test_a_closed_card_at_the_bank_fails_the_check(demo_people, clock, sims):
    sims.bank_account(own_card().account_number, name=ZHANG, balance_fen=0, status="closed")

    row = sign(clock.now)

    assert (row.state, row.failure_reason) == (TwoPartyState.FAILED, "该银行账户已销户或不可用，请更换其他账户")
    assert [c["vc_result"] for c in sims.bank_rows("checks")] == ["1"]
