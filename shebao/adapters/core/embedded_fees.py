"""The embedded core's fee business: declarations, payments and tax receipts in
our own tables (shebao.core). A deployment with the real core replaces this
adapter; nothing above the FeeCore port changes.

Treasury timing (embedded only): a receipt is remitted (已上解) at the first
10:00 Asia/Shanghai at least 2 hours after payment, and in the treasury (已入库)
one day after remittance. A read shows the steps due by its clock without saving them;
the periodic job ``advance_treasury_states`` (and ``manage.py core_advance_receipts``)
saves them."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import FilteredRelation, Q

from shebao.adapters.core.port import CoreConflict, DeclarationInfo, DeclarationRequest, PayerProfile, TaxReceiptInfo
from shebao.common import crypto
from shebao.common.clock import SHANGHAI
from shebao.common.identity import identity_index
from shebao.common.states import transition, transition_locked_rows
from shebao.core.models import (
    Declaration,
    DeclarationLine,
    DeclarationMode,
    DeclarationState,
    EnrolmentState,
    InsuranceType,
    Payer,
    TaxReceipt,
    TaxReceiptState,
    VirtualDeclarationLine,
)
from shebao.reference.selectors import insurance_type_id, insurance_type_names

REMIT_MIN_DELAY = dt.timedelta(hours=2)
_RECEIPT_PAYER = ("payer", "payer__agency", "payer__tax_office")  # what _receipt_info reads
TREASURY_DELAY = dt.timedelta(days=1)


def expected_remit_at(paid_at: dt.datetime) -> dt.datetime:
    earliest = (paid_at + REMIT_MIN_DELAY).astimezone(SHANGHAI)
    ten = earliest.replace(hour=10, minute=0, second=0, microsecond=0)
    return (ten if ten >= earliest else ten + dt.timedelta(days=1)).astimezone(dt.UTC)


def expected_treasury_at(remitted_at: dt.datetime) -> dt.datetime:
    return remitted_at + TREASURY_DELAY


def _virtually_declared(payer: Payer, requests: list[DeclarationRequest]) -> bool:
    """Whether a virtual account already declared one of these periods for the resident."""
    wanted = Q()
    for req in requests:
        wanted |= Q(insurance_type__code=req.insurance_type_code, period__in=[p for p, _ in req.lines])
    return VirtualDeclarationLine.objects.filter(wanted, payer=payer).exists()


def _number(prefix: str, now: dt.datetime) -> str:
    return f"{prefix}{now.astimezone(SHANGHAI):%Y%m%d}{secrets.randbelow(10**11):011d}"


def _declaration_info(d: Declaration) -> DeclarationInfo:
    return DeclarationInfo(
        declaration_no=d.declaration_no, insurance_type_code=d.insurance_type.code, insurance_type=d.insurance_type.name,
        contribution_year=d.contribution_year, period_from=d.period_from, period_to=d.period_to, base_amount=d.base_amount,
        rate=d.rate, amount=d.amount, mode=d.mode, state=d.state,
        receipt_no=d.tax_receipt.receipt_no if d.tax_receipt_id else None,
    )


def _receipt_info(r: TaxReceipt, declarations: list[Declaration] | None = None) -> TaxReceiptInfo:
    """``declarations``: the receipt's declarations when the caller holds them (else read)."""
    rows = (sorted(declarations, key=lambda d: d.declaration_no) if declarations is not None
            else r.declarations.select_related("insurance_type", "tax_receipt").order_by("declaration_no"))
    decls = tuple(_declaration_info(d) for d in rows)
    return TaxReceiptInfo(
        receipt_no=r.receipt_no, verify_code=r.verify_code, registration_no=r.payer.registration_no, channel=r.channel,
        bank_serial_no=r.bank_serial_no, amount=r.amount, paid_at=r.paid_at, state=r.state, state_label=r.get_state_display(),
        remitted_at=r.remitted_at, in_treasury_at=r.in_treasury_at, declarations=decls,
        person_no=r.payer.person_no, agency=r.payer.agency.name, tax_office=r.payer.tax_office.name,
        **_expected_times(r),
    )


def _expected_times(r: TaxReceipt) -> dict[str, dt.datetime | None]:
    """The port's expected times of the states ``r`` has not reached (None once reached)."""
    remit = None if r.remitted_at else expected_remit_at(r.paid_at)
    treasury = None if r.in_treasury_at else expected_treasury_at(r.remitted_at or remit)
    return {"remit_expected_at": remit, "in_treasury_expected_at": treasury}


def _advance(receipt: TaxReceipt, now: dt.datetime) -> TaxReceipt:
    """Apply the treasury steps that are due by ``now`` (see module docstring)."""
    if receipt.state == TaxReceiptState.PAID and now >= expected_remit_at(receipt.paid_at):
        receipt = transition(receipt, TaxReceiptState.REMITTED, actor_ref="system:treasury", reason="银行已上解国库",
                             now=now, extra={"remitted_at": expected_remit_at(receipt.paid_at)})
    if receipt.state == TaxReceiptState.REMITTED and now >= expected_treasury_at(receipt.remitted_at):
        receipt = transition(receipt, TaxReceiptState.IN_TREASURY, actor_ref="system:treasury", reason="国库已入库",
                             now=now, extra={"in_treasury_at": expected_treasury_at(receipt.remitted_at)})
    return receipt


def _projected(receipt: TaxReceipt, now: dt.datetime) -> TaxReceipt:
    """The receipt as it stands at ``now`` with the due treasury steps applied in memory only:
    what every read shows, without writing (the steps are saved by ``receipts_advance``)."""
    if receipt.state == TaxReceiptState.PAID and now >= expected_remit_at(receipt.paid_at):
        receipt.state, receipt.remitted_at = TaxReceiptState.REMITTED, expected_remit_at(receipt.paid_at)
    if receipt.state == TaxReceiptState.REMITTED and now >= expected_treasury_at(receipt.remitted_at):
        receipt.state, receipt.in_treasury_at = TaxReceiptState.IN_TREASURY, expected_treasury_at(receipt.remitted_at)
    return receipt


def _groups(special_category: str) -> tuple[str, ...]:
    """The rule groups a payer belongs to (特殊人员类别; "无" is none)."""
    return tuple(g for g in [special_category] if g and g != "无")


def _profile_where(**unique) -> tuple[str, PayerProfile] | None:
    """(name, profile) of the payer found by a unique field, in one statement: the payer with
    city, agency and tax office, LEFT JOINed to its active enrolments (a row per enrolment;
    one row with no type when there is none). None when no payer matches."""
    rows = list(
        Payer.objects.filter(**unique)
        .annotate(active=FilteredRelation("enrolments", condition=Q(enrolments__state=EnrolmentState.ACTIVE)))
        .values("name", "public_id", "registration_no", "person_no", "person_type", "special_category", "city__division_code",
                "agency__name", "tax_office__name", "active__insurance_type__code")
        .order_by("active__pk")
    )
    if not rows:
        return None
    first = rows[0]
    name = Payer._meta.get_field("name").open(first["name"], first["public_id"])  # values(): no instance to open it
    return name, PayerProfile(
        registration_no=first["registration_no"], person_no=first["person_no"], person_type=first["person_type"],
        city_code=first["city__division_code"], groups=_groups(first["special_category"]),
        agency=first["agency__name"], tax_office=first["tax_office__name"],
        enrolled_types=tuple(r["active__insurance_type__code"] for r in rows if r["active__insurance_type__code"]),
    )


class EmbeddedFeeCore:
    """FeeCore over our own tables."""

    def payer_profile(self, *, registration_no: str) -> PayerProfile:
        found = _profile_where(registration_no=registration_no)
        if found is None:
            raise Payer.DoesNotExist(registration_no)
        return found[1]

    def payer_profile_by_identity(self, *, name: str, id_type: str, id_number: str) -> PayerProfile | None:
        found = _profile_where(id_index=identity_index(id_type=id_type, id_number=id_number))
        return found[1] if found is not None and found[0] == name else None

    def declaration_submit(self, *, registration_no: str, requests: list[DeclarationRequest], now: dt.datetime) -> list[DeclarationInfo]:
        payer = Payer.objects.get(registration_no=registration_no)
        out = []
        if _virtually_declared(payer, requests):
            raise CoreConflict("所选费款所属期已由虚拟户（村委会、社区或学校）代为申报，请勿重复申报")
        try:
            with transaction.atomic(savepoint=False):
                for req in requests:
                    itype_id = insurance_type_id(req.insurance_type_code)
                    if itype_id is None:
                        raise InsuranceType.DoesNotExist(req.insurance_type_code)
                    d = Declaration.objects.create(
                        public_id=crypto.random_token(12), declaration_no=_number("10", now), payer=payer, insurance_type_id=itype_id,
                        contribution_year=req.contribution_year, period_from=req.period_from, period_to=req.period_to,
                        base_amount=req.base_amount, rate=req.rate, amount=sum((a for _, a in req.lines), Decimal("0.00")),
                        mode=DeclarationMode.SELF, rule_refs=list(req.rule_refs), declared_at=now,
                    )
                    DeclarationLine.objects.bulk_create(
                        DeclarationLine(declaration=d, payer=payer, insurance_type_id=itype_id, period=p, amount=a)
                        for p, a in req.lines
                    )
                    out.append(d)
        except IntegrityError as exc:
            raise CoreConflict("所选费款所属期已申报或已缴费，请勿重复申报；如有未完成的缴费，请在“缴费记录”中继续缴费") from exc
        names = insurance_type_names()
        return [
            DeclarationInfo(
                declaration_no=d.declaration_no, insurance_type_code=code, insurance_type=names[code],
                contribution_year=d.contribution_year, period_from=d.period_from, period_to=d.period_to, base_amount=d.base_amount,
                rate=d.rate, amount=d.amount, mode=str(d.mode), state=str(d.state), receipt_no=None,
            )
            for d, code in zip(out, (req.insurance_type_code for req in requests), strict=True)
        ]

    def _declarations(self, registration_no: str):
        return Declaration.objects.select_related("insurance_type", "tax_receipt").filter(payer__registration_no=registration_no)

    def declarations_pending(self, *, registration_no: str) -> list[DeclarationInfo]:
        rows = self._declarations(registration_no).filter(state=DeclarationState.DECLARED).order_by("declared_at", "declaration_no")
        return [_declaration_info(d) for d in rows]

    def periods_taken(self, *, registration_no: str, contribution_year: int) -> dict[str, dict[str, str]]:
        rows = (self._declarations(registration_no)
                .filter(contribution_year=contribution_year, state__in=[DeclarationState.DECLARED, DeclarationState.PAID])
                .values_list("insurance_type__code", "period_from", "period_to", "state"))
        taken: dict[str, dict[str, str]] = {}
        for code, start, end, state in rows:
            months = taken.setdefault(code, {})
            for month in range(int(start[4:]), int(end[4:]) + 1):
                key = f"{start[:4]}{month:02d}"
                if months.get(key) != DeclarationState.PAID:  # paid wins over a (stale) declared row
                    months[key] = str(state)
        virtual = (VirtualDeclarationLine.objects.filter(payer__registration_no=registration_no, period__startswith=str(contribution_year))
                   .values_list("insurance_type__code", "period", "declaration__paid_at"))
        for code, period, paid_at in virtual:  # what a virtual account declared for the resident is taken too
            months = taken.setdefault(code, {})
            months[period] = DeclarationState.PAID if paid_at else months.get(period, DeclarationState.DECLARED)
        return taken

    def declarations_get(self, *, registration_no: str, declaration_nos: list[str]) -> list[DeclarationInfo]:
        rows = self._declarations(registration_no).filter(declaration_no__in=declaration_nos).order_by("declaration_no")
        return [_declaration_info(d) for d in rows]

    def declaration_void(self, *, registration_no: str, declaration_no: str, reason: str, now: dt.datetime) -> None:
        with transaction.atomic(savepoint=False):
            d = self._declarations(registration_no).select_for_update(of=("self",)).get(declaration_no=declaration_no)
            transition(d, DeclarationState.VOIDED, actor_ref="core", reason=reason, now=now, locked=True)
            d.lines.update(live=False)

    def payment_record(self, *, registration_no: str, declaration_nos: list[str], channel: str, transaction_id: str,
                       amount: Decimal, paid_at: dt.datetime) -> TaxReceiptInfo:
        source_ref = f"{channel}:{transaction_id}"
        with transaction.atomic(savepoint=False):
            decls = list(self._declarations(registration_no).select_related("payer__agency", "payer__tax_office")
                         .select_for_update(of=("self",)).filter(declaration_no__in=declaration_nos).order_by("pk"))
            if len(decls) != len(set(declaration_nos)) or any(d.state != DeclarationState.DECLARED for d in decls):
                # the same payment recorded before (a retry): its receipt; anything else is a conflict
                existing = TaxReceipt.objects.select_related(*_RECEIPT_PAYER).filter(source_ref=source_ref).first()
                if existing is not None:
                    return _receipt_info(existing)
                raise CoreConflict("申报已缴费或已作废")
            if sum((d.amount for d in decls), Decimal("0.00")) != amount:
                raise CoreConflict("缴费金额与申报金额不符")
            payer = decls[0].payer  # all of one payer: the filter is by registration number
            receipt = TaxReceipt.objects.create(
                public_id=crypto.random_token(12), receipt_no=_number("33", paid_at), verify_code=crypto.random_token(9).upper()[:12],
                payer=payer, source_ref=source_ref, channel=channel, bank_serial_no=transaction_id, amount=amount, paid_at=paid_at,
            )
            transition_locked_rows(decls, DeclarationState.PAID, actor_ref=f"channel:{channel}", reason=f"缴费 {transaction_id}",
                                   now=paid_at, extra={"tax_receipt": receipt})
            return _receipt_info(receipt, decls)

    def tax_receipt_get(self, *, receipt_no: str, now: dt.datetime | None = None) -> TaxReceiptInfo | None:
        """Read only: the treasury steps due by ``now`` are shown, not saved (the treasury job,
        ``receipts_advance``, saves them; a read must not write, nor wait on a row lock)."""
        receipt = TaxReceipt.objects.select_related(*_RECEIPT_PAYER).filter(receipt_no=receipt_no).first()
        return None if receipt is None else _receipt_info(_projected(receipt, now) if now else receipt)

    def tax_receipt_by_verify_code(self, *, verify_code: str, now: dt.datetime | None = None) -> TaxReceiptInfo | None:
        """Read only (the public verification page): due treasury steps are shown, not saved."""
        receipt = TaxReceipt.objects.select_related(*_RECEIPT_PAYER).filter(verify_code=verify_code).first()
        return None if receipt is None else _receipt_info(_projected(receipt, now) if now else receipt)

    def tax_receipts_list(self, *, registration_no: str) -> list[TaxReceiptInfo]:
        rows = TaxReceipt.objects.select_related(*_RECEIPT_PAYER).filter(payer__registration_no=registration_no).order_by("-paid_at")
        return [_receipt_info(r) for r in rows]

    def receipts_advance(self, *, now: dt.datetime) -> int:
        """Apply due treasury steps to every receipt not yet in the treasury."""
        count = 0
        for receipt in TaxReceipt.objects.exclude(state=TaxReceiptState.IN_TREASURY):
            if _advance(receipt, now).state != receipt.state:
                count += 1
        return count
