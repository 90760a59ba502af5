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
from shebao.adapters.core.port import CoreConflict, PaidItem, RefundInfo, RefundSheetInfo, VirtualAccountInfo, VirtualLine
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
    RefundSheet,
    VirtualAccount,
    VirtualDeclarationLine,
)

NO_REFUND_MESSAGE = "您属于本地不予退费特殊人员，不能申请退费。如有疑问，请咨询主管税务机关"
VIRTUAL_APPLICANT_MESSAGE = ("虚拟户不能作为退费申请人：由虚拟户代收的城乡居民费款，请由居民本人申请，"
                             "勾选“是否查询虚拟户”并录入虚拟户识别号")
SHEET_USED_MESSAGE = "该核定退费单已申请过退费，请勿重复使用"
SHEET_UNKNOWN_MESSAGE = "未查询到该核定退费单，请核对核定退费单号"


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


def _refunds_by_item(payer: Payer) -> dict[tuple[str, str], list[CoreRefund]]:
    refunds: dict[tuple[str, str], list[CoreRefund]] = defaultdict(list)
    for r in CoreRefund.objects.filter(payer=payer).exclude(state=CoreRefundState.FAILED).select_related("insurance_type"):
        refunds[(r.insurance_type.code, r.period)].append(r)
    return refunds


def _refunded(done: list[CoreRefund]) -> tuple[Decimal, bool]:
    return (sum((r.amount for r in done if r.state == CoreRefundState.SUCCEEDED), Decimal("0.00")),
            any(r.state == CoreRefundState.SUBMITTED for r in done))


def _virtual_paid_items(payer: Payer, va: VirtualAccount) -> list[PaidItem]:
    """What ``va`` declared and paid for this resident: one line per item (a database constraint)."""
    lines = (VirtualDeclarationLine.objects.filter(payer=payer, declaration__virtual_account=va, declaration__paid_at__isnull=False)
             .select_related("declaration", "insurance_type").order_by("-period", "insurance_type__code"))
    refunds = _refunds_by_item(payer)
    items = []
    for line in lines:
        refunded, in_refund = _refunded(refunds.get((line.insurance_type.code, line.period), []))
        items.append(PaidItem(
            insurance_type_code=line.insurance_type.code, insurance_type=line.insurance_type.name, period=line.period,
            base_amount=None, paid_amount=line.amount, receipt_nos=(line.declaration.receipt_no,), special=False,
            refunded_amount=refunded, in_refund=in_refund, virtual_account=va.identifier,
        ))
    return items


def _paid_items(payer: Payer) -> list[PaidItem]:
    """Paid lines grouped by (insurance type, period): one query for the lines, one for the refunds.
    A supplementary declaration's lines join their period's item (bases and amounts summed)."""
    lines = (DeclarationLine.objects.filter(payer=payer, live=True, declaration__state=DeclarationState.PAID)
             .select_related("declaration__tax_receipt", "insurance_type").order_by("-period", "insurance_type__code"))
    grouped: dict[tuple[str, str], list[DeclarationLine]] = defaultdict(list)
    for line in lines:
        grouped[(line.insurance_type.code, line.period)].append(line)
    refunds = _refunds_by_item(payer)
    items = []
    for (code, period), group in grouped.items():
        bases = [ln.declaration.base_amount for ln in group]
        refunded, in_refund = _refunded(refunds.get((code, period), []))
        items.append(PaidItem(
            insurance_type_code=code, insurance_type=group[0].insurance_type.name, period=period,
            base_amount=None if any(b is None for b in bases) else sum(bases, Decimal("0.00")),
            paid_amount=sum((ln.amount for ln in group), Decimal("0.00")),
            receipt_nos=tuple(sorted({ln.declaration.tax_receipt.receipt_no for ln in group})),
            special=any(ln.declaration.mode == DeclarationMode.ASSESSED for ln in group),
            refunded_amount=refunded, in_refund=in_refund,
        ))
    return items


def _va_info(va: VirtualAccount) -> VirtualAccountInfo:
    return VirtualAccountInfo(identifier=va.identifier, name=va.name, kind=va.get_kind_display(), city=va.city.name)


def _sheet_info(sheet: RefundSheet, used: bool) -> RefundSheetInfo:
    return RefundSheetInfo(
        sheet_no=sheet.sheet_no, registration_no=sheet.payer.registration_no, agency=sheet.agency.name,
        insurance_type_code=sheet.insurance_type.code, insurance_type=sheet.insurance_type.name, period=sheet.period,
        paid_amount=sheet.paid_amount, amount=sheet.amount, reason=sheet.reason, assessed_on=sheet.assessed_on, handler=sheet.handler,
        used=used,
    )


def _sheet_used(sheet: RefundSheet) -> bool:
    return CoreRefund.objects.filter(sheet=sheet).exclude(state=CoreRefundState.FAILED).exists()


def _check_sheet(sheet_no: str, payer: Payer, item: PaidItem, amount: Decimal) -> RefundSheet:
    sheet = RefundSheet.objects.select_related("insurance_type").filter(sheet_no=sheet_no).first()
    if sheet is None or sheet.payer_id != payer.pk:
        raise CoreConflict(SHEET_UNKNOWN_MESSAGE)
    if (sheet.insurance_type.code, sheet.period) != (item.insurance_type_code, item.period):
        raise CoreConflict("核定退费单的险种或费款所属期与所选缴费不一致")
    if _sheet_used(sheet):
        raise CoreConflict(SHEET_USED_MESSAGE)
    if amount != sheet.amount:
        raise CoreConflict(f"退费金额须与核定退费单的核定退费金额 {sheet.amount} 元一致")
    return sheet


def _check_kind(kind: str, item: PaidItem, amount: Decimal, sheet_no: str) -> None:
    if kind == "normal" and item.special:
        raise CoreConflict("该笔费款通过特殊缴费申报缴纳，请通过特殊缴费退费申请办理")
    if kind == "normal" and (item.refunded_amount or amount != item.paid_amount):
        raise CoreConflict("正常缴费退费须按实缴金额全额退费")
    if kind == "special" and not sheet_no and not item.special:
        raise CoreConflict("该笔费款不是通过特殊缴费申报表缴纳的，请通过正常缴费退费申请办理")
    if kind == "special" and not sheet_no and (item.refunded_amount or amount != item.paid_amount):
        raise CoreConflict("按税票申请特殊缴费退费的，须按实缴金额全额退费")


class EmbeddedRefundCore:
    """The refund part of the FeeCore port over our own tables."""

    def refund_refusal(self, *, registration_no: str) -> str | None:
        if VirtualAccount.objects.filter(identifier=registration_no).exists():
            return VIRTUAL_APPLICANT_MESSAGE
        payer = Payer.objects.get(registration_no=registration_no)
        return NO_REFUND_MESSAGE if _on_no_refund_list(payer) else None

    def paid_items(self, *, registration_no: str, virtual_account: str = "") -> list[PaidItem]:
        payer = Payer.objects.get(registration_no=registration_no)
        if not virtual_account:
            return _paid_items(payer)
        va = VirtualAccount.objects.filter(identifier=virtual_account).first()
        return [] if va is None else _virtual_paid_items(payer, va)

    def virtual_account_get(self, *, identifier: str) -> VirtualAccountInfo | None:
        va = VirtualAccount.objects.select_related("city").filter(identifier=identifier).first()
        return None if va is None else _va_info(va)

    def virtual_accounts_search(self, *, name_part: str, limit: int) -> list[VirtualAccountInfo]:
        rows = VirtualAccount.objects.select_related("city").filter(name__contains=name_part).order_by("name", "identifier")[:limit]
        return [_va_info(va) for va in rows]

    def virtual_lines(self, *, registration_no: str) -> list[VirtualLine]:
        rows = (VirtualDeclarationLine.objects.filter(payer__registration_no=registration_no)
                .select_related("declaration__virtual_account__city", "insurance_type").order_by("-period", "insurance_type__code"))
        return [VirtualLine(
            virtual_account=_va_info(ln.declaration.virtual_account), declaration_no=ln.declaration.declaration_no,
            insurance_type_code=ln.insurance_type.code, insurance_type=ln.insurance_type.name, period=ln.period, amount=ln.amount,
            declared_at=ln.declaration.declared_at, receipt_no=ln.declaration.receipt_no, paid_at=ln.declaration.paid_at,
        ) for ln in rows]

    def refund_sheet_get(self, *, sheet_no: str) -> RefundSheetInfo | None:
        sheet = RefundSheet.objects.select_related("payer", "agency", "insurance_type").filter(sheet_no=sheet_no).first()
        return None if sheet is None else _sheet_info(sheet, _sheet_used(sheet))

    def refund_submit(self, *, registration_no: str, kind: str, insurance_type_code: str, period: str, amount: Decimal,
                      application_ref: str, now: dt.datetime, virtual_account: str = "", sheet_no: str = "") -> RefundInfo:
        if VirtualAccount.objects.filter(identifier=registration_no).exists():
            raise CoreConflict(VIRTUAL_APPLICANT_MESSAGE)
        with transaction.atomic():
            payer = Payer.objects.select_for_update().get(registration_no=registration_no)  # one payer's refunds in line
            earlier = CoreRefund.objects.select_related("payer", "insurance_type").filter(application_ref=application_ref).first()
            if earlier is not None:
                return _refund_info(earlier)
            if _on_no_refund_list(payer):
                raise CoreConflict(NO_REFUND_MESSAGE)
            va = None
            if virtual_account:
                va = VirtualAccount.objects.filter(identifier=virtual_account).first()
                if va is None or sheet_no:
                    raise CoreConflict("未查询到该虚拟户识别号" if va is None else "虚拟户代收的费款不能按核定退费单退费")
            items = _paid_items(payer) if va is None else _virtual_paid_items(payer, va)
            item = next((i for i in items if (i.insurance_type_code, i.period) == (insurance_type_code, period)), None)
            if item is None:
                raise CoreConflict("未查询到该险种该所属期的缴费记录")
            if item.in_refund:
                raise CoreConflict("该险种该所属期已有退费申请正在办理")
            if sheet_no and kind != "special":
                raise CoreConflict("核定退费单只用于特殊缴费退费申请")
            sheet = _check_sheet(sheet_no, payer, item, amount) if sheet_no else None
            if amount <= 0 or item.refunded_amount + amount > item.paid_amount:
                raise CoreConflict(f"退费金额不能超过可退金额 {item.paid_amount - item.refunded_amount} 元")
            _check_kind(kind, item, amount, sheet_no)
            refund = CoreRefund.objects.create(
                public_id=crypto.random_token(12), refund_no=_number("44", now), application_ref=application_ref, payer=payer,
                kind=kind, insurance_type=InsuranceType.objects.get(code=insurance_type_code), period=period, amount=amount,
                submitted_at=now, virtual_account=va, sheet=sheet,
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

