"""城乡居民应缴费额确定 (REQUIREMENTS §2.5): a resident chooses the grade (档次) the next
batch deduction of a yearly item takes. The only writer of ``PayableAmountChoice``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from shebao.agreements.models import PayableAmountChoice
from shebao.archive.services import archive_append
from shebao.audit.services import audit_record
from shebao.common.actor import Actor
from shebao.rules.snapshot import FIXED_GRADE


class PayableAmountError(Exception):
    """Refused; the message is for the person. Nothing was stored."""


class StepUpRequired(PayableAmountError):
    """No recent SMS step-up: the view sends the person to it first."""


def payable_amount_set(*, actor: Actor, profile, rule, grade: Decimal, now: dt.datetime) -> PayableAmountChoice:
    """Record ``grade`` for ``rule``'s insurance type and year (a fixed-grade resident item the
    person is enrolled in); the same grade as the one in force changes nothing."""
    account = actor.citizen_account()
    if not actor.step_up_fresh(now):
        raise StepUpRequired("为保障资金安全，请先进行短信验证")
    if profile.person_type != "resident":
        raise PayableAmountError("应缴费额确定适用于城乡居民；灵活就业人员请在“申报及缴纳”中按缴费基数申报")
    if rule is None or rule.calculation != FIXED_GRADE:
        raise PayableAmountError("该险种该年度不按档次缴费，无需确定应缴费额")
    if rule.insurance_type_code not in profile.enrolled_types:
        raise PayableAmountError(f"您未参加{rule.insurance_type_name}，请先办理参保登记")
    if grade not in rule.grades:
        offered = "、".join(f"{g:.2f}元" for g in rule.grades)
        raise PayableAmountError(f"请在以下缴费档次中选择：{offered}")
    current = payable_amount_current(registration_no=profile.registration_no, insurance_type_code=rule.insurance_type_code,
                                     contribution_year=rule.contribution_year)
    if current is not None and current.amount == grade:
        return current
    with transaction.atomic():
        choice = PayableAmountChoice.objects.create(
            account=account, registration_no=profile.registration_no, insurance_type_code=rule.insurance_type_code,
            insurance_type=rule.insurance_type_name, contribution_year=rule.contribution_year, amount=grade, rule_ref=rule.ref,
            chosen_at=now)
        archive_append(business_type="amount_setting", business_ref=f"PA{choice.pk}", subject_ref=account.public_id,
                       data={"registration_no": profile.registration_no, "insurance_type_code": rule.insurance_type_code,
                             "contribution_year": rule.contribution_year, "amount": str(grade), "rule_ref": rule.ref,
                             "previous": str(current.amount) if current else ""}, now=now)
        audit_record(actor=actor, action="payable_amount.set", subject_type="payable_amount", subject_ref=f"PA{choice.pk}",
                     changes={"amount": {"old": str(current.amount) if current else "", "new": str(grade)}}, now=now)
    return choice


def payable_amount_current(*, registration_no: str, insurance_type_code: str, contribution_year: int) -> PayableAmountChoice | None:
    return (PayableAmountChoice.objects.filter(registration_no=registration_no, insurance_type_code=insurance_type_code,
                                               contribution_year=contribution_year).order_by("-chosen_at", "-pk").first())
