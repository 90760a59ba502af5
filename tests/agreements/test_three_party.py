"""三方协议 (REQUIREMENTS §2.4): signing (payer data from the login, the account the payer's
own, the number generated, archived with the signature), verification through the bank
simulator electronically and on paper after the counter entered it, every refusal with
nothing changed, cancelling, and the timeline."""

from __future__ import annotations

import re

import pytest

from shebao.adapters.bank.simulator import demo_account_no
from shebao.agreements import agreement_services as services
from shebao.agreements.agreement_services import AccountEntry, AgreementError, StepUpRequired
from shebao.agreements.models import ThreePartyAgreement, ThreePartyState
from shebao.agreements.selectors import agreement_timeline
from shebao.archive.models import ArchiveRecord
from shebao.audit.models import AuditEvent
from shebao.common.states import StateTransition
from tests import actors
from tests.agreements.fakes import FakeBank
from tests.agreements.helpers import LI, ZHANG, own_card, signer

pytestmark = pytest.mark.django_db
UNKNOWN_CARD = demo_account_no(98)  # Luhn-valid, no such account at the bank


def create(now, *, to: AccountEntry | None = None, method: str = "electronic", sign: bool = True, name: str = ZHANG):
    account, actor, profile = signer(name, now=now)
    return services.three_party_create(actor=actor, profile=profile, to=to or own_card(name), method=method, sign=sign, now=now)


def test_signing_fills_the_payer_from_the_login_and_archives_the_signed_content(demo_people, clock):
    row = create(clock.now)

    account, _, profile = signer(now=clock.now)
    assert re.fullmatch(r"SF20260302\d{10}", row.agreement_no)
    assert (row.payer_name, row.id_type, row.id_number, row.registration_no) == (ZHANG, account.id_type, account.id_number,
                                                                                 profile.registration_no)
    assert (row.state, row.method, row.bank_name, row.tax_org_code, row.signed) == (ThreePartyState.PENDING, "electronic",
                                                                                   "中国工商银行", "14500000000", True)
    assert row.account_masked == "*" * 15 + row.account_number[-4:]
    [archived] = ArchiveRecord.objects.filter(business_type="agreement")
    assert (archived.business_ref, archived.subject_ref) == (row.agreement_no, account.public_id)
    assert archived.payer_signature.startswith("sm2-confirm:")
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["agreement.three_party.create"]


def test_without_a_signature_the_archive_has_none(demo_people, clock):
    create(clock.now, sign=False)

    assert ArchiveRecord.objects.get(business_type="agreement").payer_signature == ""


def test_an_electronic_agreement_of_a_matching_account_is_verified_by_the_bank(demo_people, clock, sims):
    row = create(clock.now)
    _, actor, _ = signer(now=clock.now)

    verified = services.three_party_verify(actor=actor, agreement=row, now=clock.now)

    assert (verified.state, verified.verified_at, verified.failure_reason) == (ThreePartyState.VERIFIED, clock.now, "")
    assert len(verified.bank_check_no) == 16
    assert [(t.from_state, t.to_state, t.reason) for t in agreement_timeline(verified)] == [
        ("", "pending", "签署"), ("pending", "verified", "银行验证通过")]


def test_an_account_the_bank_holds_under_another_name_fails_with_the_reason(demo_people, clock, sims):
    lis_card_as_zhang = AccountEntry(bank_code="102", account_number=own_card(LI).account_number, account_name=ZHANG)
    row = create(clock.now, to=lis_card_as_zhang)
    _, actor, _ = signer(now=clock.now)

    failed = services.three_party_verify(actor=actor, agreement=row, now=clock.now)

    assert (failed.state, failed.failure_reason) == (ThreePartyState.FAILED, "账户名称与银行预留的户名不一致，请核对后重新填写")
    with pytest.raises(AgreementError, match="验证未通过，无需验证"):
        services.three_party_verify(actor=actor, agreement=failed, now=clock.now)


def test_an_account_unknown_to_the_bank_fails(demo_people, clock, sims):
    row = create(clock.now, to=AccountEntry(bank_code="102", account_number=demo_account_no(99), account_name=ZHANG))
    _, actor, _ = signer(now=clock.now)

    failed = services.three_party_verify(actor=actor, agreement=row, now=clock.now)

    assert (failed.state, failed.failure_reason) == (ThreePartyState.FAILED, "银行未查到该账号，请核对开户银行和银行账号")


def test_a_paper_agreement_waits_for_the_counter_and_is_verified_after_it(demo_people, clock, sims):
    row = create(clock.now, method="paper")
    _, actor, profile = signer(now=clock.now)

    early = services.three_party_verify(actor=actor, agreement=row, now=clock.now)
    counter = sims.bank_counter(tax_org_code=row.tax_org_code, protocol_no=row.agreement_no, payer_code=profile.registration_no,
                                payer_name=ZHANG, bank_code="102611000017", account_no=row.account_number, account_name=ZHANG)
    done = services.three_party_verify(actor=actor, agreement=early, now=clock.now)

    assert (early.state, early.failure_reason) == (ThreePartyState.AWAITING_COUNTER, "银行尚未录入该纸质协议，请先到银行柜面办理签约后再验证")
    assert counter.status_code == 200
    assert done.state == ThreePartyState.VERIFIED
    assert [t.to_state for t in agreement_timeline(done)] == ["awaiting_counter", "verified"]
    assert [(c["protocol_no"], c["vc_sign"], c["vc_result"]) for c in sims.bank_rows("checks")] == [
        (row.agreement_no, "1", "1"), (row.agreement_no, "1", "0")]


def test_a_bank_that_cannot_answer_changes_nothing(demo_people, clock):
    row = create(clock.now)
    _, actor, _ = signer(now=clock.now)
    audited = AuditEvent.objects.count()

    with pytest.raises(AgreementError, match="银行暂时无法受理"):
        services.three_party_verify(actor=actor, agreement=row, now=clock.now, gateway=FakeBank(unavailable=True))

    row.refresh_from_db()
    assert (row.state, row.failure_reason, row.bank_check_no) == (ThreePartyState.PENDING, "", "")
    assert AuditEvent.objects.count() == audited


def test_cancelling_a_verified_agreement_and_nothing_after_it(demo_people, clock):
    row = create(clock.now)
    _, actor, _ = signer(now=clock.now)
    verified = services.three_party_verify(actor=actor, agreement=row, now=clock.now, gateway=FakeBank())

    cancelled = services.three_party_cancel(actor=actor, agreement=verified, now=clock.now)

    assert (cancelled.state, cancelled.cancelled_at) == (ThreePartyState.CANCELLED, clock.now)
    with pytest.raises(AgreementError, match="已解除，不能解除"):
        services.three_party_cancel(actor=actor, agreement=cancelled, now=clock.now)
    assert AuditEvent.objects.filter(action="agreement.three_party.cancel").count() == 1


def test_another_person_can_neither_verify_nor_cancel_it(demo_people, clock):
    row = create(clock.now)
    _, li, _ = signer(LI, now=clock.now)

    with pytest.raises(AgreementError, match="未找到该协议"):
        services.three_party_verify(actor=li, agreement=row, now=clock.now, gateway=FakeBank())
    with pytest.raises(AgreementError, match="未找到该协议"):
        services.three_party_cancel(actor=li, agreement=row, now=clock.now)
    row.refresh_from_db()
    assert row.state == ThreePartyState.PENDING


@pytest.mark.parametrize(("to", "message"), [
    (AccountEntry("999", UNKNOWN_CARD, ZHANG), "请选择开户银行"),
    (AccountEntry("102", "62220245000000000", ZHANG), "银行卡号校验未通过"),
    (AccountEntry("102", "6222abc", ZHANG), "银行账号只能包含数字"),
    (AccountEntry("102", "12345", ZHANG), "银行账号应为12至25位数字"),
    (AccountEntry("102", UNKNOWN_CARD, "李秀兰"), "三方协议须使用缴费人本人的银行账户"),
    (AccountEntry("102", UNKNOWN_CARD, ""), "请输入账户名称"),
])
def test_bad_accounts_are_refused_and_nothing_is_stored(demo_people, clock, to, message):
    with pytest.raises(AgreementError, match=message):
        create(clock.now, to=to)

    assert ThreePartyAgreement.objects.count() == 0
    assert ArchiveRecord.objects.filter(business_type="agreement").count() == 0
    assert StateTransition.objects.count() == 0


def test_the_same_account_twice_is_refused_while_the_first_lives(demo_people, clock):
    first = create(clock.now)

    with pytest.raises(AgreementError, match=f"该银行账户已有三方协议（{first.agreement_no}，待验证）"):
        create(clock.now)
    assert ThreePartyAgreement.objects.count() == 1


def test_without_the_step_up_or_a_method_nothing_is_stored(demo_people, clock):
    account, _, profile = signer(now=clock.now)

    with pytest.raises(StepUpRequired):
        services.three_party_create(actor=actors.citizen(account), profile=profile, to=own_card(), method="electronic", sign=True,
                                    now=clock.now)
    with pytest.raises(AgreementError, match="请选择验证方式"):
        services.three_party_create(actor=actors.citizen(account, step_up_at=clock.now), profile=profile, to=own_card(),
                                    method="fax", sign=True, now=clock.now)
    with pytest.raises(AgreementError, match="未查询到您的参保登记信息"):
        services.three_party_create(actor=actors.citizen(account, step_up_at=clock.now), profile=None, to=own_card(),
                                    method="electronic", sign=True, now=clock.now)
    assert ThreePartyAgreement.objects.count() == 0
