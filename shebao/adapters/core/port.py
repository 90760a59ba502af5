"""CoreSystem port in our vocabulary (REQUIREMENTS §3: registration serial number
by the three elements, then insured information)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class InsuredItem:
    insurance_type_code: str
    insurance_type: str
    person_type: str  # "flexible" | "resident"
    collection_item: str  # 征收项目
    collection_subitem: str  # 征收品目
    state: str  # label, e.g. 参保缴费
    rate: Decimal
    started_on: dt.date


@dataclass(frozen=True)
class InsuredInfo:
    registration_no: str  # 登记序号
    person_no: str  # 人员编号
    person_type: str  # label
    special_category: str
    agency: str  # 社保经办机构
    tax_office: str  # 主管税务机关
    city: str
    items: tuple[InsuredItem, ...]


class CoreSystem(Protocol):
    def registration_find(self, *, name: str, id_type: str, id_number: str) -> str | None:
        """登记序号 of the person with these three elements, or None when not insured."""
        ...

    def insured_info(self, *, registration_no: str) -> InsuredInfo:
        ...

    def registration_name_matches(self, *, name: str, id_type: str, id_number: str) -> bool | None:
        """None when the core holds no registration for this document; else whether
        ``name`` is the name it is registered under (the core's name is not given out)."""
        ...


@dataclass(frozen=True)
class PayerProfile:
    """What the fee business needs to know about a payer (from the core)."""

    registration_no: str
    person_no: str
    person_type: str  # "flexible" | "resident"
    city_code: str  # division code of the insured city
    groups: tuple[str, ...]  # special categories, e.g. ("达到法定退休年龄人员",)
    agency: str
    tax_office: str
    enrolled_types: tuple[str, ...]  # insurance type codes with an active enrolment


@dataclass(frozen=True)
class DeclarationRequest:
    insurance_type_code: str
    contribution_year: int
    period_from: str  # YYYYMM: the run of fee periods covered
    period_to: str
    base_amount: Decimal | None
    rate: Decimal | None
    lines: tuple[tuple[str, Decimal], ...]  # (YYYYMM, amount): one per month, or one for a yearly amount
    rule_refs: tuple[str, ...]


@dataclass(frozen=True)
class DeclarationInfo:
    declaration_no: str
    insurance_type_code: str
    insurance_type: str
    contribution_year: int
    period_from: str
    period_to: str
    base_amount: Decimal | None
    rate: Decimal | None
    amount: Decimal
    mode: str  # "self" | "assessed"
    state: str  # "declared" | "paid" | "voided"
    receipt_no: str | None


@dataclass(frozen=True)
class TaxReceiptInfo:
    receipt_no: str
    verify_code: str
    registration_no: str
    channel: str
    bank_serial_no: str
    amount: Decimal
    paid_at: dt.datetime
    state: str  # "paid" | "remitted" | "in_treasury"
    state_label: str
    remitted_at: dt.datetime | None
    in_treasury_at: dt.datetime | None
    declarations: tuple[DeclarationInfo, ...]
    # the payer as the receipt names them (the receipt page needs no second call)
    person_no: str = ""
    agency: str = ""
    tax_office: str = ""


class CoreConflict(Exception):
    """The core refused a write (e.g. a period already declared); message for the person."""


class FeeCore(Protocol):
    """The fee-business part of the core (declarations, payments, tax receipts)."""

    def payer_profile(self, *, registration_no: str) -> PayerProfile: ...

    def payer_profile_by_identity(self, *, name: str, id_type: str, id_number: str) -> PayerProfile | None:
        """The profile of the payer whose three elements all match, or None
        (``registration_find`` then ``payer_profile`` in one call)."""
        ...

    def declaration_submit(self, *, registration_no: str, requests: list[DeclarationRequest], now: dt.datetime) -> list[DeclarationInfo]:
        """Record self-declarations; raises CoreConflict if a period is already live."""
        ...

    def declarations_pending(self, *, registration_no: str) -> list[DeclarationInfo]: ...

    def periods_taken(self, *, registration_no: str, contribution_year: int) -> dict[str, dict[str, str]]:
        """The fee periods of a contribution year that are live at the core (and so
        cannot be declared again): insurance type code -> {"YYYYMM": "paid" | "declared"}.
        A yearly item covers every month of its year."""
        ...

    def declarations_get(self, *, registration_no: str, declaration_nos: list[str]) -> list[DeclarationInfo]: ...

    def declaration_void(self, *, registration_no: str, declaration_no: str, reason: str, now: dt.datetime) -> None: ...

    def payment_record(self, *, registration_no: str, declaration_nos: list[str], channel: str, transaction_id: str,
                       amount: Decimal, paid_at: dt.datetime) -> TaxReceiptInfo:
        """Mark the declarations paid and issue one tax receipt; idempotent per
        (channel, transaction_id): a repeat returns the receipt issued first."""
        ...

    def tax_receipt_get(self, *, receipt_no: str) -> TaxReceiptInfo | None: ...

    def tax_receipt_by_verify_code(self, *, verify_code: str) -> TaxReceiptInfo | None: ...

    def tax_receipts_list(self, *, registration_no: str) -> list[TaxReceiptInfo]: ...
