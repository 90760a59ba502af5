"""Deduction agreements (委托扣款缴费协议, REQUIREMENTS §2.4): the only writer of
``ThreePartyAgreement`` and ``TwoPartyAgreement``.

* Three-party (三方协议): the payer's document and name come from the login, the bank,
  account number and account name are entered (the account must be the payer's own); the
  service generates the agreement number; the payer confirms (after the SMS step-up) and may
  sign electronically; the content and signature are archived. Then the bank's agreement
  check through the BankGateway port: at once electronically, or — for a paper agreement —
  after the bank entered it at its counter, when the payer completes verification online.
* Two-party (两两协议): for oneself, or for another person whose document type, number and
  name are entered (found at the core by those three); the card is the signer's own. At most
  one deduction-enabled agreement per payer (a partial unique index, which also decides
  concurrent signings); then the bank checks person and card.

Bank calls happen outside the database transaction (no row lock is held over the network);
their result is applied under the row lock by ``shebao.common.states.transition``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from shebao.adapters.bank import AgreementCheck, BankAccount, BankError, BankGateway, FailReason, VerifyMethod, get_bank_gateway
from shebao.agreements.models import (
    DEDUCTION_ENABLED_TWO_PARTY,
    ThreePartyAgreement,
    ThreePartyState,
    TwoPartyAgreement,
    TwoPartyState,
)
from shebao.agreements.models import VerifyMethod as Method
from shebao.archive.integrity import canonical_json
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor, ActorKind
from shebao.common.clock import SHANGHAI
from shebao.common.masking import mask_bank_account
from shebao.common.states import StateTransition, transition
from shebao.common.validators import validate_id_number, validate_person_name
from shebao.reference.banks import BANK_NAMES, CLEARING_BANK_CODES, bank_account_problem

ONE_TWO_PARTY_MESSAGE = "该缴费人已有生效或审核中的两两协议，请先解除原协议后再签订"
BANK_UNAVAILABLE_MESSAGE = "银行暂时无法受理，请稍后再试"


class AgreementError(Exception):
    """Refused; the message is for the person. Nothing was stored."""


class StepUpRequired(AgreementError):
    """No recent SMS step-up: the view sends the person to it first."""


@dataclasses.dataclass(frozen=True)
class AccountEntry:
    """The bank account as the person entered it: bank (its class code), number, name."""

    bank_code: str
    account_number: str
    account_name: str


@dataclasses.dataclass(frozen=True)
class PersonEntry:
    """Another person's document type, number and name, as entered."""

    id_type: str
    id_number: str
    name: str


def _agreement_no(prefix: str, now: dt.datetime) -> str:
    return f"{prefix}{now.astimezone(SHANGHAI):%Y%m%d}{secrets.randbelow(10**10):010d}"


def _checked_account(entry: AccountEntry, *, holder: str, own_message: str) -> AccountEntry:
    number, name = entry.account_number.strip(), entry.account_name.strip()
    problem = bank_account_problem(entry.bank_code, number)
    if problem:
        raise AgreementError(problem)
    if not name:
        raise AgreementError("请输入账户名称")
    if name != holder:
        raise AgreementError(own_message)
    return AccountEntry(entry.bank_code, number, name)


def _signature(content: dict[str, Any], *, signer: str, now: dt.datetime) -> str:
    """The payer's electronic signature of the agreement: the service's SM2 signature over the
    canonical content, the signer's public id and the moment they confirmed (after the SMS
    step-up), kept with the archive record."""
    signed = canonical_json({"content": content, "signer": signer, "confirmed_at": now.astimezone(dt.UTC).isoformat()})
    return "sm2-confirm:" + crypto.sign(signed.encode("utf-8"))


def _created(row: Any, *, actor: Actor, now: dt.datetime) -> None:
    StateTransition.objects.create(model=type(row)._meta.label_lower, object_ref=row.public_id, from_state="", to_state=row.state,
                                   actor_ref=actor.ref[:64], reason="签署", at=now)


def _bank_account(row: Any) -> BankAccount:
    return BankAccount(bank_code=CLEARING_BANK_CODES[row.bank_code], account_no=row.account_number, account_name=row.account_name)


def _content(row: Any, kind: str) -> dict[str, Any]:
    return {"kind": kind, "agreement_no": row.agreement_no, "registration_no": row.registration_no, "payer_name": row.payer_name,
            "id_type": row.id_type, "id_number": row.id_number, "bank_code": row.bank_code, "bank_name": row.bank_name,
            "account_number": row.account_number, "account_name": row.account_name,
            "created_at": row.created_at.astimezone(dt.UTC).isoformat()}


def _ask_bank(gateway: BankGateway, check: AgreementCheck, now: dt.datetime):
    try:
        return gateway.verify_agreement(check, on=now.astimezone(SHANGHAI).date())
    except BankError as exc:
        raise AgreementError(BANK_UNAVAILABLE_MESSAGE if exc.retryable else "银行未受理该协议信息，请核对开户银行和银行账号") from exc


# --- three-party ---------------------------------------------------------------------


def three_party_create(*, actor: Actor, profile, to: AccountEntry, method: str, sign: bool, now: dt.datetime) -> ThreePartyAgreement:
    """三方协议签署 (§2.4): the agreement as ``pending`` (electronic) or ``awaiting_counter``
    (paper), archived with the signature when ``sign``; verification is ``three_party_verify``."""
    account = actor.citizen_account()
    if not actor.step_up_fresh(now):
        raise StepUpRequired("为保障资金安全，请先进行短信验证")
    if profile is None:
        raise AgreementError("未查询到您的参保登记信息，暂不能签订扣款协议")
    if method not in Method.values:
        raise AgreementError("请选择验证方式")
    to = _checked_account(to, holder=account.name, own_message="三方协议须使用缴费人本人的银行账户：账户名称须与缴费人姓名一致")
    for live in ThreePartyAgreement.objects.filter(account=account).exclude(state__in=[ThreePartyState.FAILED, ThreePartyState.CANCELLED]):
        if live.account_number == to.account_number:
            raise AgreementError(f"该银行账户已有三方协议（{live.agreement_no}，{live.get_state_display()}），无需重复签订")
    state = ThreePartyState.PENDING if method == Method.ELECTRONIC else ThreePartyState.AWAITING_COUNTER
    with transaction.atomic():
        row = ThreePartyAgreement(
            public_id=crypto.random_token(), agreement_no=_agreement_no("SF", now), account=account,
            registration_no=profile.registration_no, payer_name=account.name, id_type=account.id_type, id_number=account.id_number,
            tax_org_code=settings.BANK["TAX_ORG_CODE"], bank_code=to.bank_code, bank_name=BANK_NAMES[to.bank_code],
            account_number=to.account_number, account_masked=mask_bank_account(to.account_number), account_name=to.account_name,
            method=method, state=state, signed=sign, created_at=now)
        row.save()
        _created(row, actor=actor, now=now)
        content = {**_content(row, "three_party"), "tax_org_code": row.tax_org_code, "method": method}
        archive_append(business_type="agreement", business_ref=row.agreement_no, subject_ref=account.public_id, data=content,
                       payer_signature=_signature(content, signer=account.public_id, now=now) if sign else "", now=now)
        audit_record(actor=actor, action="agreement.three_party.create", subject_type="three_party_agreement",
                     subject_ref=row.public_id, changes={"state": {"old": "", "new": str(state)}, "account": {"old": "", "new": row.account_masked}}, now=now)
    return row


def three_party_verify(*, actor: Actor, agreement: ThreePartyAgreement, now: dt.datetime,
                       gateway: BankGateway | None = None) -> ThreePartyAgreement:
    """The bank's agreement check (TIPS 9114/9115) of the payer's own agreement: passed →
    ``verified``; a paper agreement the counter has not entered yet stays ``awaiting_counter``
    (the reason kept, to try again); any other failure → ``failed`` with its reason. The bank
    unreachable: ``AgreementError``, nothing changed."""
    account = actor.citizen_account()
    if agreement.account_id != account.pk:
        raise AgreementError("未找到该协议")
    if agreement.state not in (ThreePartyState.PENDING, ThreePartyState.AWAITING_COUNTER):
        raise AgreementError(f"该协议{agreement.get_state_display()}，无需验证")
    method = VerifyMethod.PAPER if agreement.method == Method.PAPER else VerifyMethod.ELECTRONIC
    check = AgreementCheck(agreement_no=agreement.agreement_no, tax_org_code=agreement.tax_org_code,
                           payer_code=agreement.registration_no, payer_name=agreement.payer_name, account=_bank_account(agreement),
                           method=method)
    verdict = _ask_bank(gateway or get_bank_gateway(), check, now)
    with transaction.atomic():
        row = ThreePartyAgreement.objects.select_for_update().get(pk=agreement.pk)
        if row.state not in (ThreePartyState.PENDING, ThreePartyState.AWAITING_COUNTER):
            return row  # another check got there first
        old = row.state
        if verdict.passed:
            row = transition(row, ThreePartyState.VERIFIED, actor_ref=actor.ref[:64], reason="银行验证通过", now=now, locked=True,
                             extra={"verified_at": now, "bank_check_no": verdict.check_no, "failure_reason": ""})
        elif method is VerifyMethod.PAPER and verdict.reason is FailReason.AGREEMENT_NOT_FOUND:
            row.failure_reason, row.bank_check_no = "银行尚未录入该纸质协议，请先到银行柜面办理签约后再验证", verdict.check_no
            row.save(update_fields=["failure_reason", "bank_check_no"])
        else:
            row = transition(row, ThreePartyState.FAILED, actor_ref=actor.ref[:64], reason=verdict.reason_text, now=now, locked=True,
                             extra={"failure_reason": verdict.reason_text, "bank_check_no": verdict.check_no})
        audit_record(actor=actor, action="agreement.three_party.verify", subject_type="three_party_agreement",
                     subject_ref=row.public_id, outcome="success" if verdict.passed else "failure",
                     changes={"state": {"old": str(old), "new": str(row.state)}, "reason": {"old": "", "new": str(verdict.reason or "")}},
                     now=now)
    return row


def three_party_cancel(*, actor: Actor, agreement: ThreePartyAgreement, now: dt.datetime) -> ThreePartyAgreement:
    """解除三方协议: the payer's own agreement, not yet failed or cancelled."""
    account = actor.citizen_account()
    if agreement.account_id != account.pk:
        raise AgreementError("未找到该协议")
    if ThreePartyState.CANCELLED not in ThreePartyAgreement.TRANSITIONS[agreement.state]:
        raise AgreementError(f"该协议{agreement.get_state_display()}，不能解除")
    with transaction.atomic():
        row = ThreePartyAgreement.objects.select_for_update().get(pk=agreement.pk)
        old = row.state
        row = transition(row, ThreePartyState.CANCELLED, actor_ref=actor.ref[:64], reason="缴费人解除", now=now, locked=True,
                         extra={"cancelled_at": now})
        audit_record(actor=actor, action="agreement.three_party.cancel", subject_type="three_party_agreement",
                     subject_ref=row.public_id, changes={"state": {"old": str(old), "new": str(row.state)}}, now=now)
    return row


# --- two-party -----------------------------------------------------------------------


def _subject(actor: Actor, profile, person: PersonEntry | None, now: dt.datetime, core) -> tuple[str, str, str, str]:
    """(registration no, id type, id number, name) of whose fees the agreement deducts."""
    account = actor.citizen_account()
    if person is None:
        if profile is None:
            raise AgreementError("未查询到您的参保登记信息，暂不能签订扣款协议")
        return profile.registration_no, account.id_type, account.id_number, account.name
    try:
        id_number = validate_id_number(person.id_type, person.id_number, today=now.astimezone(SHANGHAI).date())
        name = validate_person_name(person.name)
    except ValidationError as exc:
        raise AgreementError(exc.messages[0]) from None
    if (person.id_type, id_number) == (account.id_type, account.id_number):
        raise AgreementError("为本人签约请选择“为本人签约”")
    if core is None:
        from shebao.adapters.core import get_core

        core = get_core()
    registration_no = core.registration_find(name=name, id_type=person.id_type, id_number=id_number)
    if registration_no is None:
        raise AgreementError("未查询到该人员的参保登记信息，请核对证件类型、证件号码和姓名")
    return registration_no, person.id_type, id_number, name


def two_party_create(*, actor: Actor, profile, person: PersonEntry | None, to: AccountEntry, sign: bool, now: dt.datetime,
                     gateway: BankGateway | None = None, core=None) -> TwoPartyAgreement:
    """两两协议签署 (§2.4): for oneself (``person`` None) or another person; the signer's own
    card. Refused when the payer already has a deduction-enabled one (checked, and decided by
    the partial unique index under concurrency). Stored ``pending`` and archived, then the bank
    checks person and card (``two_party_bank_check``); a bank that cannot answer leaves it
    ``pending`` for a later check."""
    account = actor.citizen_account()
    if not actor.step_up_fresh(now):
        raise StepUpRequired("为保障资金安全，请先进行短信验证")
    registration_no, id_type, id_number, name = _subject(actor, profile, person, now, core)
    to = _checked_account(to, holder=account.name, own_message="两两协议须使用签约人本人的银行卡：持卡人姓名须与您的姓名一致")
    if TwoPartyAgreement.objects.filter(registration_no=registration_no, state__in=DEDUCTION_ENABLED_TWO_PARTY).exists():
        raise AgreementError(ONE_TWO_PARTY_MESSAGE)
    try:
        with transaction.atomic():
            row = TwoPartyAgreement(
                public_id=crypto.random_token(), agreement_no=_agreement_no("LL", now), account=account, for_self=person is None,
                registration_no=registration_no, payer_name=name, id_type=id_type, id_number=id_number, bank_code=to.bank_code,
                bank_name=BANK_NAMES[to.bank_code], account_number=to.account_number,
                account_masked=mask_bank_account(to.account_number), account_name=to.account_name, state=TwoPartyState.PENDING,
                signed=sign, created_at=now)
            row.save()
            _created(row, actor=actor, now=now)
            content = {**_content(row, "two_party"), "for_self": row.for_self, "signer": account.public_id}
            archive_append(business_type="agreement", business_ref=row.agreement_no, subject_ref=account.public_id, data=content,
                           payer_signature=_signature(content, signer=account.public_id, now=now) if sign else "", now=now)
            audit_record(actor=actor, action="agreement.two_party.create", subject_type="two_party_agreement",
                         subject_ref=row.public_id, changes={"state": {"old": "", "new": str(row.state)}, "for_self": {"old": "", "new": str(row.for_self)},
                                  "account": {"old": "", "new": row.account_masked}}, now=now)
    except IntegrityError:
        raise AgreementError(ONE_TWO_PARTY_MESSAGE) from None
    try:
        return two_party_bank_check(actor=actor, agreement=row, now=now, gateway=gateway)
    except AgreementError:
        return row  # signed; the bank's check is retried later


def two_party_bank_check(*, actor: Actor, agreement: TwoPartyAgreement, now: dt.datetime,
                         gateway: BankGateway | None = None) -> TwoPartyAgreement:
    """The bank checks the person and the card of a ``pending`` agreement: → ``active`` or
    ``failed`` with a plain reason. ``AgreementError`` (nothing changed) when it cannot answer.
    A person may ask for their own agreements only; a job (system actor) for any."""
    if actor.kind == ActorKind.CITIZEN and agreement.account_id != actor.account.pk:
        raise AgreementError("未找到该协议")
    if agreement.state != TwoPartyState.PENDING:
        raise AgreementError(f"该协议{agreement.get_state_display()}，无需银行审核")
    check = AgreementCheck(agreement_no=agreement.agreement_no, tax_org_code=settings.BANK["TAX_ORG_CODE"],
                           payer_code=agreement.registration_no, payer_name=agreement.payer_name, account=_bank_account(agreement))
    verdict = _ask_bank(gateway or get_bank_gateway(), check, now)
    with transaction.atomic():
        row = TwoPartyAgreement.objects.select_for_update().get(pk=agreement.pk)
        if row.state != TwoPartyState.PENDING:
            return row
        if verdict.passed:
            row = transition(row, TwoPartyState.ACTIVE, actor_ref=actor.ref[:64], reason="银行审核通过", now=now, locked=True,
                             extra={"activated_at": now, "bank_check_no": verdict.check_no})
        else:
            row = transition(row, TwoPartyState.FAILED, actor_ref=actor.ref[:64], reason=verdict.reason_text, now=now, locked=True,
                             extra={"failure_reason": verdict.reason_text, "bank_check_no": verdict.check_no})
        audit_record(actor=actor, action="agreement.two_party.bank_check", subject_type="two_party_agreement",
                     subject_ref=row.public_id, outcome="success" if verdict.passed else "failure",
                     changes={"state": {"old": "pending", "new": str(row.state)}, "reason": {"old": "", "new": str(verdict.reason or "")}},
                     now=now)
    return row


def two_party_cancel(*, actor: Actor, agreement: TwoPartyAgreement, now: dt.datetime) -> TwoPartyAgreement:
    """解除两两协议: the signer's own agreement, pending or active; the payer may then sign another."""
    account = actor.citizen_account()
    if agreement.account_id != account.pk:
        raise AgreementError("未找到该协议")
    if TwoPartyState.CANCELLED not in TwoPartyAgreement.TRANSITIONS[agreement.state]:
        raise AgreementError(f"该协议{agreement.get_state_display()}，不能解除")
    with transaction.atomic():
        row = TwoPartyAgreement.objects.select_for_update().get(pk=agreement.pk)
        old = row.state
        row = transition(row, TwoPartyState.CANCELLED, actor_ref=actor.ref[:64], reason="签约人解除", now=now, locked=True,
                         extra={"cancelled_at": now})
        audit_record(actor=actor, action="agreement.two_party.cancel", subject_type="two_party_agreement", subject_ref=row.public_id,
                     changes={"state": {"old": str(old), "new": str(row.state)}}, now=now)
    return row


def two_party_checks_follow_up(*, now: dt.datetime, gateway: BankGateway | None = None, limit: int = 500) -> dict[str, int]:
    """The job ``check_pending_agreements``: ask the bank again about two-party agreements
    left ``pending`` (the bank could not answer at signing), oldest first, those signed more
    than a minute ago (the signing request itself is still asking about the newer ones). Stops
    at the first agreement the bank cannot answer for: the rest wait for the next run."""
    actor = Actor.system("check_pending_agreements")
    gateway = gateway or get_bank_gateway()
    done = {"decided": 0, "still_pending": 0}
    due = TwoPartyAgreement.objects.filter(state=TwoPartyState.PENDING, created_at__lt=now - dt.timedelta(minutes=1))
    for row in due.order_by("created_at", "pk")[:limit]:
        try:
            two_party_bank_check(actor=actor, agreement=row, now=now, gateway=gateway)
        except AgreementError:
            done["still_pending"] = due.count() - done["decided"]
            break
        done["decided"] += 1
    return done
