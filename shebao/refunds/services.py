"""Refund services (REQUIREMENTS §2.3): apply for a refund, follow it to its 退库 result.
The only writers of refund applications, item balances and the refund ledger."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from shebao.adapters.core import get_core
from shebao.adapters.core.port import CoreConflict, CoreUnavailable, PaidItem, RefundInfo
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common import crypto
from shebao.common.actor import Actor
from shebao.common.clock import SHANGHAI
from shebao.common.masking import mask_bank_account
from shebao.common.states import transition
from shebao.reference.banks import BANK_NAMES, bank_account_problem
from shebao.refunds.models import (
    LedgerEntryKind,
    RefundApplication,
    RefundItemBalance,
    RefundKind,
    RefundLedgerEntry,
    RefundState,
)

logger = logging.getLogger("shebao.refunds")

IN_REFUND_MESSAGE = "该险种该所属期已有退费申请正在办理，请勿重复申请"
REFUNDED_MESSAGE = "该险种该所属期已全额退费"


class RefundError(Exception):
    """A refund request was refused; the message is for the person. Nothing was stored."""


class StepUpRequired(RefundError):
    """A refund without a recent SMS step-up; the view sends the person to the step-up page."""


@dataclass(frozen=True)
class RefundAccount:
    """Where the money goes: the payer's own bank account."""

    bank_code: str
    account_number: str
    holder_name: str


def item_refusal(item: PaidItem, *, kind: str) -> str | None:
    """Why this paid item cannot be refunded whole by ``kind`` now, or None (a refund by
    assessment sheet is checked against its sheet instead)."""
    if item.in_refund:
        return IN_REFUND_MESSAGE
    if item.refunded_amount >= item.paid_amount:
        return REFUNDED_MESSAGE
    if kind == RefundKind.NORMAL and item.special:
        return "该笔费款通过特殊缴费申报缴纳，请通过“特殊缴费退费申请”办理"
    if kind == RefundKind.SPECIAL and not item.special:
        return "该笔费款不是通过特殊缴费申报表缴纳的，请通过“正常缴费退费申请”办理"
    if kind == RefundKind.SPECIAL and item.refunded_amount:
        return "该笔费款已部分退费，请按核定退费单申请"
    if item.refunded_amount:  # a normal refund is of the whole amount paid, which is no longer there
        return f"该险种该所属期已部分退费（已退 {item.refunded_amount} 元），不能再全额退费；其余部分请按核定退费单办理特殊缴费退费"
    return None


def _check_account(account_name: str, to: RefundAccount) -> None:
    problem = bank_account_problem(to.bank_code, to.account_number)
    if problem:
        raise RefundError(problem)
    if to.holder_name.strip() != account_name:
        raise RefundError("退费账户须为缴费人本人的银行账户：账户名称须与缴费人姓名一致")


@dataclass(frozen=True)
class SheetEntry:
    """A refund assessment sheet (核定退费单) as the person copied it from paper: every field."""

    sheet_no: str
    agency: str
    insurance_type_code: str
    period: str
    paid_amount: Decimal
    amount: Decimal
    reason: str
    assessed_on: dt.date
    handler: str

    FIELDS = (("agency", "社保经办机构"), ("insurance_type_code", "险种"), ("period", "费款所属期"), ("paid_amount", "已缴金额"),
              ("amount", "核定退费金额"), ("reason", "退费原因"), ("assessed_on", "核定日期"), ("handler", "经办人"))

    def as_data(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in ("sheet_no", *(f for f, _ in self.FIELDS))}


def _check_sheet_entry(core, registration_no: str, entry: SheetEntry) -> None:
    """The sheet the person entered is the one social security issued to them, field by field."""
    sheet = core.refund_sheet_get(sheet_no=entry.sheet_no)
    if sheet is None or sheet.registration_no != registration_no:
        raise RefundError("未查询到该核定退费单，请核对核定退费单号")
    if sheet.used:
        raise RefundError("该核定退费单已申请过退费，请勿重复使用")
    differing = [label for name, label in SheetEntry.FIELDS if getattr(entry, name) != getattr(sheet, name)]
    if differing:
        raise RefundError(f"录入的核定退费单信息与社保经办机构核定的不一致：{'、'.join(differing)}，请对照核定退费单核对")


def refund_apply_normal(*, actor: Actor, registration_no: str, insurance_type_code: str, period: str, to: RefundAccount,
                        idempotency_key: str, now: dt.datetime, virtual_account: str = "") -> RefundApplication:
    """正常缴费退费申请: one insurance item of one period, refunded whole (the amount actually
    paid, the summed base of every declaration of that period); with ``virtual_account``, an
    item that virtual account declared and paid for the resident. Accepted at once when the
    checks pass, submitted to the core in the same transaction, archived and audited; the
    decision comes by the job ``follow_refunds``. A repeated key returns the first application."""
    return _apply(actor=actor, registration_no=registration_no, kind=RefundKind.NORMAL, key=(insurance_type_code, period), to=to,
                  idempotency_key=idempotency_key, now=now, virtual_account=virtual_account)


def refund_apply_special(*, actor: Actor, registration_no: str, to: RefundAccount, idempotency_key: str, now: dt.datetime,
                         insurance_type_code: str = "", period: str = "", sheet: SheetEntry | None = None) -> RefundApplication:
    """特殊缴费退费申请: either an item paid through the special declaration form, refunded
    whole, or (``sheet``) the amount a refund assessment sheet (核定退费单) assessed, which may
    be part of what was paid; the sheet's fields must be those social security issued."""
    key = (sheet.insurance_type_code, sheet.period) if sheet else (insurance_type_code, period)
    return _apply(actor=actor, registration_no=registration_no, kind=RefundKind.SPECIAL, key=key, to=to,
                  idempotency_key=idempotency_key, now=now, sheet=sheet)


def _apply(*, actor: Actor, registration_no: str, kind: str, key: tuple[str, str], to: RefundAccount, idempotency_key: str,
           now: dt.datetime, virtual_account: str = "", sheet: SheetEntry | None = None) -> RefundApplication:
    account = actor.citizen_account()
    if not actor.step_up_fresh(now):
        raise StepUpRequired("为保障资金安全，请先进行短信验证")
    earlier = RefundApplication.objects.filter(account=account, idempotency_key=idempotency_key).first()
    if earlier is not None:
        return earlier
    core = get_core()
    refusal = core.refund_refusal(registration_no=registration_no)
    if refusal:
        raise RefundError(refusal)
    va_name = ""
    if virtual_account:
        va = core.virtual_account_get(identifier=virtual_account)
        if va is None:
            raise RefundError("未查询到该虚拟户识别号，请核对后重新录入")
        va_name = va.name
    item = next((i for i in core.paid_items(registration_no=registration_no, virtual_account=virtual_account)
                 if (i.insurance_type_code, i.period) == key), None)
    if item is None:
        raise RefundError("未查询到该险种该所属期的缴费记录")
    if sheet is not None:
        _check_sheet_entry(core, registration_no, sheet)
        if item.in_refund:
            raise RefundError(IN_REFUND_MESSAGE)
        amount = sheet.amount
    else:
        if refusal := item_refusal(item, kind=kind):
            raise RefundError(refusal)
        amount = item.paid_amount
    _check_account(account.name, to)
    try:
        return _accept_and_submit(actor=actor, registration_no=registration_no, item=item, kind=kind, amount=amount, to=to,
                                  idempotency_key=idempotency_key, now=now, virtual_account=(virtual_account, va_name), sheet=sheet)
    except IntegrityError as exc:  # another application of the item won the race (or the same key twice)
        again = RefundApplication.objects.filter(account=account, idempotency_key=idempotency_key).first()
        if again is not None:
            return again
        raise RefundError(IN_REFUND_MESSAGE) from exc


def _verify_code() -> str:
    """The decision letter's public verification code: 16 characters, unambiguous, upper case."""
    return crypto.random_code(16)


def _application_no(now: dt.datetime) -> str:
    """TF + date + 10 characters of letters and digits (never "-" or "_": it goes into file names and is read aloud)."""
    return f"TF{now.astimezone(SHANGHAI):%Y%m%d}{crypto.random_code(10)}"


def _accept_and_submit(*, actor: Actor, registration_no: str, item: PaidItem, kind: str, amount: Decimal, to: RefundAccount,
                       idempotency_key: str, now: dt.datetime, virtual_account: tuple[str, str],
                       sheet: SheetEntry | None) -> RefundApplication:
    """Accept (受理: committed, its amount reserved, archived, audited), then submit to the core
    after that commit. Our record always exists before the core hears of the refund, so a core
    that accepts it while our transaction fails cannot leave a refund we do not know."""
    application = _accept(actor=actor, registration_no=registration_no, item=item, kind=kind, amount=amount, to=to,
                          idempotency_key=idempotency_key, now=now, virtual_account=virtual_account, sheet=sheet)
    return refund_submit(application=application, actor=actor, now=now)


def _accept(*, actor: Actor, registration_no: str, item: PaidItem, kind: str, amount: Decimal, to: RefundAccount,
            idempotency_key: str, now: dt.datetime, virtual_account: tuple[str, str], sheet: SheetEntry | None) -> RefundApplication:
    with transaction.atomic():
        RefundItemBalance.objects.get_or_create(registration_no=registration_no, insurance_type_code=item.insurance_type_code,
                                                period=item.period, defaults={"paid": item.paid_amount})
        balance = RefundItemBalance.objects.select_for_update().get(
            registration_no=registration_no, insurance_type_code=item.insurance_type_code, period=item.period)
        if item.paid_amount > balance.paid:  # paid again since the row was made (a supplementary declaration): the row follows
            RefundItemBalance.objects.filter(pk=balance.pk).update(paid=item.paid_amount)
            balance.paid = item.paid_amount
        if balance.committed + amount > balance.paid:
            raise RefundError(f"退费金额不能超过可退金额 {balance.paid - balance.committed} 元")
        application = RefundApplication(
            public_id=crypto.random_token(), application_no=_application_no(now), account=actor.citizen_account(),
            idempotency_key=idempotency_key, registration_no=registration_no, kind=kind, insurance_type_code=item.insurance_type_code,
            insurance_type=item.insurance_type, period=item.period, base_amount=item.base_amount, paid_amount=item.paid_amount,
            amount=amount, receipt_nos=list(item.receipt_nos), bank_code=to.bank_code, bank_name=BANK_NAMES[to.bank_code],
            account_number=to.account_number, account_masked=mask_bank_account(to.account_number), holder_name=to.holder_name,
            accepted_at=now, virtual_account_id=virtual_account[0], virtual_account_name=virtual_account[1],
            sheet_no=sheet.sheet_no if sheet else "", sheet=sheet.as_data() if sheet else {}, verify_code=_verify_code(),
        )
        application.save()
        RefundItemBalance.objects.filter(pk=balance.pk).update(committed=F("committed") + amount)
        _ledger(application, LedgerEntryKind.RESERVE, amount, reference=application.application_no, actor=actor, now=now)
        archive_append(business_type="refund", business_ref=application.application_no, subject_ref=actor.citizen_account().public_id,
                       data=_archive_data(application, to), now=now)
        audit_record(actor=actor, action="refund.apply", subject_type="refund", subject_ref=application.public_id,
                     changes={"amount": {"old": "", "new": str(amount)}, "item": {"old": "", "new": f"{item.insurance_type_code}:{item.period}"},
                              "account": {"old": "", "new": application.account_masked}}, now=now)
    logger.info("refund accepted", extra={"subject_ref": application.public_id, "kind": kind})
    return application


def refund_submit(*, application: RefundApplication, actor: Actor, now: dt.datetime) -> RefundApplication:
    """Submit an accepted application to the core, outside any transaction of ours (a remote core
    is never inside it); idempotent at the core by ``application_ref``, so submitting again after
    a lost answer or a crash finds the same core refund. The core's refusal (a change since the
    checks, e.g. a concurrent refund at the counter) ends the application as 退库失败 with the
    reason and gives its amount back; a core that does not answer leaves it accepted, for the
    job ``follow_refunds`` to submit again. Returns the fresh row."""
    if application.state != RefundState.ACCEPTED:
        return application
    try:
        info = get_core().refund_submit(
            registration_no=application.registration_no, kind=application.kind, insurance_type_code=application.insurance_type_code,
            period=application.period, amount=application.amount, application_ref=application.public_id, now=now,
            virtual_account=application.virtual_account_id, sheet_no=application.sheet_no)
    except CoreConflict as exc:
        return _end_failed(application=application, reason=str(exc), reference=application.application_no, actor=actor, now=now,
                           from_state=RefundState.ACCEPTED)
    except CoreUnavailable as exc:
        logger.warning("refund not submitted yet: the core did not answer", extra={"subject_ref": application.public_id, "error": str(exc)[:120]})
        return application
    with transaction.atomic():
        row = RefundApplication.objects.select_for_update().get(pk=application.pk)
        if row.state != RefundState.ACCEPTED:
            return row
        row = transition(row, RefundState.SUBMITTED, actor_ref=actor.ref, reason="已提交核心系统", now=now, locked=True,
                         extra={"core_refund_no": info.refund_no, "submitted_at": info.submitted_at, "next_expected_at": info.decide_expected_at})
        audit_record(actor=actor, action="refund.submitted", subject_type="refund", subject_ref=row.public_id,
                     changes={"state": {"old": "accepted", "new": "submitted"}, "core_refund_no": {"old": "", "new": info.refund_no}}, now=now)
    logger.info("refund submitted", extra={"subject_ref": row.public_id, "kind": row.kind})
    return row


def _archive_data(application: RefundApplication, to: RefundAccount) -> dict:
    return {
        "application_no": application.application_no, "kind": application.kind, "registration_no": application.registration_no,
        "insurance_type_code": application.insurance_type_code, "period": application.period,
        "base_amount": None if application.base_amount is None else str(application.base_amount),
        "paid_amount": str(application.paid_amount), "amount": str(application.amount), "receipt_nos": application.receipt_nos,
        "bank_code": to.bank_code, "account_number": to.account_number, "holder_name": to.holder_name,
        "accepted_at": application.accepted_at.isoformat(),
        "virtual_account_id": application.virtual_account_id, "sheet": application.sheet,
    }


def _ledger(application: RefundApplication, kind: str, amount: Decimal, *, reference: str, actor: Actor, now: dt.datetime) -> None:
    RefundLedgerEntry(application=application, kind=kind, amount=amount, reference=reference, actor_ref=actor.ref, at=now).save()


def refund_follow(*, application: RefundApplication, info: RefundInfo, actor: Actor, now: dt.datetime) -> bool:
    """Take the core's decision of a submitted refund (the job ``follow_refunds``); whether it
    changed anything. Safe to run again: a decided application is left alone."""
    if info.state == "submitted" or application.state != RefundState.SUBMITTED:
        return False
    with transaction.atomic():
        row = RefundApplication.objects.select_for_update().select_related("account").get(pk=application.pk)
        if row.state != RefundState.SUBMITTED:
            return False
        _decide(row, succeeded=info.state == "succeeded", reason=info.reason or "退库未成功", reference=info.refund_no,
                decided_at=info.decided_at, actor=actor, now=now)
    return True


def _end_failed(*, application: RefundApplication, reason: str, reference: str, actor: Actor, now: dt.datetime,
                from_state: str) -> RefundApplication:
    with transaction.atomic():
        row = RefundApplication.objects.select_for_update().select_related("account").get(pk=application.pk)
        if row.state == from_state:
            _decide(row, succeeded=False, reason=reason, reference=reference, decided_at=now, actor=actor, now=now)
    logger.warning("refund refused by the core", extra={"subject_ref": row.public_id})
    return row


def _decide(row: RefundApplication, *, succeeded: bool, reason: str, reference: str, decided_at: dt.datetime | None, actor: Actor,
            now: dt.datetime) -> None:
    """The application's end, on its locked row: 退库成功, or 退库失败 with its amount given back;
    ledgered, archived (the decision letter's facts) and audited."""
    before = row.state
    if succeeded:
        transition(row, RefundState.SUCCEEDED, actor_ref=actor.ref, reason="国库已退库", now=now, locked=True,
                   extra={"decided_at": decided_at, "next_expected_at": None})
        _ledger(row, LedgerEntryKind.REFUND, row.amount, reference=reference, actor=actor, now=now)
    else:
        transition(row, RefundState.FAILED, actor_ref=actor.ref, reason=reason, now=now, locked=True,
                   extra={"decided_at": decided_at, "next_expected_at": None, "failure_reason": reason[:100]})
        RefundItemBalance.objects.filter(registration_no=row.registration_no, insurance_type_code=row.insurance_type_code,
                                         period=row.period).update(committed=F("committed") - row.amount)
        _ledger(row, LedgerEntryKind.RELEASE, -row.amount, reference=reference, actor=actor, now=now)
    archive_append(business_type="refund_decision", business_ref=row.application_no, subject_ref=row.account.public_id,
                   data={"application_no": row.application_no, "decision": row.decision_label, "state": row.state,
                         "amount": str(row.amount), "core_refund_no": row.core_refund_no or reference, "reason": row.failure_reason,
                         "decided_at": row.decided_at.isoformat() if row.decided_at else "", "verify_code": row.verify_code},
                   now=now)
    audit_record(actor=actor, action=f"refund.{row.state}", subject_type="refund", subject_ref=row.public_id,
                 changes={"state": {"old": before, "new": row.state}}, now=now)


def refunds_follow_up(*, now: dt.datetime) -> dict[str, int]:
    """Submit what was accepted but not yet submitted (the core did not answer, or the process
    ended between the two), let the embedded core decide what is due, then take every decision
    the core has made."""
    core = get_core()
    actor = Actor.system("follow_refunds")
    submitted = 0
    for application in RefundApplication.objects.filter(state=RefundState.ACCEPTED).order_by("accepted_at").iterator():
        if refund_submit(application=application, actor=actor, now=now).state != RefundState.ACCEPTED:
            submitted += 1
    decide = getattr(core, "refunds_decide", None)
    decided_at_core = decide(now=now) if decide else 0
    taken = 0
    for application in RefundApplication.objects.filter(state=RefundState.SUBMITTED).order_by("submitted_at").iterator():
        info = core.refund_get(refund_no=application.core_refund_no)
        if info is not None and refund_follow(application=application, info=info, actor=actor, now=now):
            taken += 1
    return {"submitted": submitted, "decided_at_core": decided_at_core, "taken": taken}
