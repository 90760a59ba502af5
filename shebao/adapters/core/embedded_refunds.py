"""The embedded core's refunds (REQUIREMENTS §2.3): paid items, the no-refund
special-person list, refund applications and their 退库 result, in our own tables.

Decision timing (embedded only): a submitted refund is decided (退库) at the first 10:00
Asia/Shanghai at least 2 hours after submission, by the periodic job that calls
``refunds_decide``; it succeeds unless ``settings.CORE_EMBEDDED["REFUND_FAILURE"]`` names a
failure reason (so the failure path can be walked and tested)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from shebao.adapters.core.embedded_fees import _number, expected_remit_at
from shebao.adapters.core.port import CoreConflict, PaidItem, RefundInfo
from shebao.common import crypto
from shebao.common.states import transition
from shebao.core.models import (
    CoreRefund,
    CoreRefundState,
    DeclarationLine,
    DeclarationMode,
    DeclarationState,
    InsuranceType,
    NoRefundPerson,
    Payer,
)

NO_REFUND_MESSAGE = "您属于本地不予退费特殊人员，不能申请退费。如有疑问，请咨询主管税务机关"


def expected_decision_at(submitted_at: dt.datetime) -> dt.datetime:
    return expected_remit_at(submitted_at)


def _refund_info(r: CoreRefund) -> RefundInfo:
    return RefundInfo(
        refund_no=r.refund_no, registration_no=r.payer.registration_no, kind=r.kind, insurance_type_code=r.insurance_type.code,
        period=r.period, amount=r.amount, state=r.state, reason=r.reason, submitted_at=r.submitted_at, decided_at=r.decided_at,
        decide_expected_at=None if r.decided_at else expected_decision_at(r.submitted_at),
    )


def _on_no_refund_list(payer: Payer) -> bool:
    return NoRefundPerson.objects.filter(city_id=payer.city_id, id_index=payer.id_index).exists()


def _paid_items(payer: Payer) -> list[PaidItem]:
    """Paid lines grouped by (insurance type, period): one query for the lines, one for the refunds."""
    lines = (DeclarationLine.objects.filter(payer=payer, live=True, declaration__state=DeclarationState.PAID)
             .select_related("declaration__tax_receipt", "insurance_type").order_by("-period", "insurance_type__code"))
    grouped: dict[tuple[str, str], list[DeclarationLine]] = defaultdict(list)
    for line in lines:
        grouped[(line.insurance_type.code, line.period)].append(line)
    refunds: dict[tuple[str, str], list[CoreRefund]] = defaultdict(list)
    for r in CoreRefund.objects.filter(payer=payer).exclude(state=CoreRefundState.FAILED).select_related("insurance_type"):
        refunds[(r.insurance_type.code, r.period)].append(r)
    items = []
    for (code, period), group in grouped.items():
        bases = [ln.declaration.base_amount for ln in group]
        done = refunds.get((code, period), [])
        items.append(PaidItem(
            insurance_type_code=code, insurance_type=group[0].insurance_type.name, period=period,
            base_amount=None if any(b is None for b in bases) else sum(bases, Decimal("0.00")),
            paid_amount=sum((ln.amount for ln in group), Decimal("0.00")),
            receipt_nos=tuple(sorted({ln.declaration.tax_receipt.receipt_no for ln in group})),
            special=any(ln.declaration.mode == DeclarationMode.ASSESSED for ln in group),
            refunded_amount=sum((r.amount for r in done if r.state == CoreRefundState.SUCCEEDED), Decimal("0.00")),
            in_refund=any(r.state == CoreRefundState.SUBMITTED for r in done),
        ))
    return items


class EmbeddedRefundCore:
    """The refund part of the FeeCore port over our own tables."""

    def refund_refusal(self, *, registration_no: str) -> str | None:
        payer = Payer.objects.get(registration_no=registration_no)
        return NO_REFUND_MESSAGE if _on_no_refund_list(payer) else None

    def paid_items(self, *, registration_no: str) -> list[PaidItem]:
        return _paid_items(Payer.objects.get(registration_no=registration_no))

    def refund_submit(self, *, registration_no: str, kind: str, insurance_type_code: str, period: str, amount: Decimal,
                      application_ref: str, now: dt.datetime) -> RefundInfo:
        with transaction.atomic():
            payer = Payer.objects.select_for_update().get(registration_no=registration_no)  # one payer's refunds in line
            earlier = CoreRefund.objects.select_related("payer", "insurance_type").filter(application_ref=application_ref).first()
            if earlier is not None:
                return _refund_info(earlier)
            if _on_no_refund_list(payer):
                raise CoreConflict(NO_REFUND_MESSAGE)
            item = next((i for i in _paid_items(payer) if (i.insurance_type_code, i.period) == (insurance_type_code, period)), None)
            if item is None:
                raise CoreConflict("未查询到该险种该所属期的缴费记录")
            if item.in_refund:
                raise CoreConflict("该险种该所属期已有退费申请正在办理")
            if amount <= 0 or item.refunded_amount + amount > item.paid_amount:
                raise CoreConflict(f"退费金额不能超过可退金额 {item.paid_amount - item.refunded_amount} 元")
            if kind == "normal" and item.special:
                raise CoreConflict("该笔费款通过特殊缴费申报缴纳，请通过特殊缴费退费申请办理")
            if kind == "normal" and (item.refunded_amount or amount != item.paid_amount):
                raise CoreConflict("正常缴费退费须按实缴金额全额退费")
            refund = CoreRefund.objects.create(
                public_id=crypto.random_token(12), refund_no=_number("44", now), application_ref=application_ref, payer=payer,
                kind=kind, insurance_type=InsuranceType.objects.get(code=insurance_type_code), period=period, amount=amount,
                submitted_at=now,
            )
            return _refund_info(refund)

    def refund_get(self, *, refund_no: str) -> RefundInfo | None:
        refund = CoreRefund.objects.select_related("payer", "insurance_type").filter(refund_no=refund_no).first()
        return None if refund is None else _refund_info(refund)

    def refunds_decide(self, *, now: dt.datetime) -> int:
        """Decide the submitted refunds that are due (the treasury's 退库); how many."""
        failure = (getattr(settings, "CORE_EMBEDDED", {}) or {}).get("REFUND_FAILURE", "")
        decided = 0
        for refund in CoreRefund.objects.filter(state=CoreRefundState.SUBMITTED).order_by("submitted_at"):
            if now < expected_decision_at(refund.submitted_at):
                continue
            with transaction.atomic():
                to = CoreRefundState.FAILED if failure else CoreRefundState.SUCCEEDED
                transition(refund, to, actor_ref="system:treasury", reason=failure or "国库已退库", now=now,
                           extra={"decided_at": now, "reason": failure})
            decided += 1
        return decided

