"""CoreSystem / FeeCore port in our vocabulary (REQUIREMENTS §3: registration serial
number by the three elements, then insured information; then the fee business).

This module is the whole contract with the province's core: every promise the
service relies on is stated in a docstring here, and tests/contract/core_contract.py
checks each of them. The embedded core passes it (tests/contract/test_embedded_core.py);
any other implementation (the real 金三 core's client) must pass the same suite with
its own test data. The service reads only what is here: nothing above the port may
import an adapter's module (e.g. the embedded core's treasury timing).

Promises in short:

* the three elements (name, document type, document number) all match, or the
  payer is not found; a name mismatch is told apart only by
  ``registration_name_matches`` (the core's name is never given out);
* one tax receipt per channel transaction: recording the same (channel,
  transaction id) again returns the receipt issued first, never a second one;
* a fee period live at the core (declared or paid) cannot be declared again
  (``CoreConflict``); a voided declaration frees its periods, and cannot be paid;
* a receipt moves 已缴费 → 已上解未入库 → 已入库, never backwards, and states the
  expected time of each state it has not reached yet;
* a paid item has at most one refund under way, and what is refunded of it never
  exceeds what was paid; a refund moves 已提交 → 退库成功 / 退库失败, once."""

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
        """登记序号 of the person with these three elements, or None when not insured
        or when the name is not the one registered for this document (all three must match)."""
        ...

    def insured_info(self, *, registration_no: str) -> InsuredInfo:
        """The insured information of a registration found by ``registration_find``
        (``registration_no`` echoed; one item per enrolment)."""
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
    # When the core expects the states not reached yet (the receipt page's timeline shows
    # them): None once the state is reached (its ``*_at`` then says when). A real core
    # states its own treasury times; the service never computes them.
    remit_expected_at: dt.datetime | None = None
    in_treasury_expected_at: dt.datetime | None = None


@dataclass(frozen=True)
class PaidItem:
    """One insurance item of one fee period as paid: the unit a normal refund takes whole.
    A period declared several times (a supplementary declaration) is one item with the
    summed base and the summed amount."""

    insurance_type_code: str
    insurance_type: str
    period: str  # YYYYMM
    base_amount: Decimal | None  # summed over the period's declarations (None: a yearly fixed amount)
    paid_amount: Decimal
    receipt_nos: tuple[str, ...]
    special: bool  # paid through the special payment declaration form (社保核定): no normal refund
    refunded_amount: Decimal  # refunds succeeded
    in_refund: bool  # a refund of it is submitted and not decided yet
    virtual_account: str = ""  # the 虚拟户识别号 that declared and paid it for the resident ("" paid by the person)


@dataclass(frozen=True)
class VirtualAccountInfo:
    """A virtual account (虚拟户): an organisation collecting residents' fees, never a payer."""

    identifier: str  # 虚拟户识别号
    name: str
    kind: str  # 村（居）民委员会 / 社区 / 学校
    city: str


@dataclass(frozen=True)
class VirtualLine:
    """One line of a virtual account's declaration for one resident (虚拟户申报结果)."""

    virtual_account: VirtualAccountInfo
    declaration_no: str
    insurance_type_code: str
    insurance_type: str
    period: str
    amount: Decimal
    declared_at: dt.datetime
    receipt_no: str  # "" while not paid
    paid_at: dt.datetime | None


@dataclass(frozen=True)
class RefundSheetInfo:
    """A refund assessment sheet (核定退费单) as the social security agency issued it."""

    sheet_no: str  # 核定退费单号
    registration_no: str
    agency: str  # 社保经办机构
    insurance_type_code: str
    insurance_type: str
    period: str
    paid_amount: Decimal  # 已缴金额
    amount: Decimal  # 核定退费金额
    reason: str  # 退费原因
    assessed_on: dt.date  # 核定日期
    handler: str  # 经办人
    used: bool  # taken by a refund submitted or succeeded


@dataclass(frozen=True)
class RefundInfo:
    refund_no: str
    registration_no: str
    kind: str  # "normal" | "special"
    insurance_type_code: str
    period: str
    amount: Decimal
    state: str  # "submitted" | "succeeded" | "failed"
    reason: str  # the core's words for a failure (退库失败原因)
    submitted_at: dt.datetime
    decided_at: dt.datetime | None
    decide_expected_at: dt.datetime | None  # when the core expects to decide (None once decided)


class CoreConflict(Exception):
    """The core refused a write (e.g. a period already declared); message for the person."""


class CoreUnavailable(Exception):
    """The core did not answer (a timeout, a 5xx): the outcome is unknown, and the identical call
    may be made again (the core's writes are idempotent by their references). The embedded core
    never raises it; a remote core's adapter does."""

    retryable = True


class FeeCore(Protocol):
    """The fee-business part of the core (declarations, payments, tax receipts).

    The service calls the writes inside its own database transaction (a savepoint
    around each), so an implementation over the same database may join it; one over
    HTTP ignores it. Every refusal is ``CoreConflict`` and changes nothing at the core."""

    def payer_profile(self, *, registration_no: str) -> PayerProfile:
        """The profile of a known registration (``enrolled_types``: active enrolments only)."""
        ...

    def payer_profile_by_identity(self, *, name: str, id_type: str, id_number: str) -> PayerProfile | None:
        """The profile of the payer whose three elements all match, or None
        (``registration_find`` then ``payer_profile`` in one call)."""
        ...

    def declaration_submit(self, *, registration_no: str, requests: list[DeclarationRequest], now: dt.datetime) -> list[DeclarationInfo]:
        """Record self-declarations, all or none: one ``DeclarationInfo`` per request, in
        order, state "declared", amount the sum of its lines. Raises CoreConflict, recording
        none of them, if any period is already live (declared or paid) for that insurance
        type, including a period repeated within the same call."""
        ...

    def declarations_pending(self, *, registration_no: str) -> list[DeclarationInfo]:
        """The declarations still to be paid (state "declared"), oldest first."""
        ...

    def periods_taken(self, *, registration_no: str, contribution_year: int) -> dict[str, dict[str, str]]:
        """The fee periods of a contribution year that are live at the core (and so
        cannot be declared again): insurance type code -> {"YYYYMM": "paid" | "declared"}.
        A yearly item covers every month of its year."""
        ...

    def declarations_get(self, *, registration_no: str, declaration_nos: list[str]) -> list[DeclarationInfo]:
        """These declarations of this registration in any state (unknown numbers and other
        payers' declarations left out); a paid one names its ``receipt_no``."""
        ...

    def declaration_void(self, *, registration_no: str, declaration_no: str, reason: str, now: dt.datetime) -> None:
        """Void a declaration not yet paid: its periods are free to be declared again, and
        it can no longer be paid (``payment_record`` of it is a CoreConflict)."""
        ...

    def payment_record(self, *, registration_no: str, declaration_nos: list[str], channel: str, transaction_id: str,
                       amount: Decimal, paid_at: dt.datetime) -> TaxReceiptInfo:
        """Mark the declarations paid and issue one tax receipt; idempotent per
        (channel, transaction_id): a repeat returns the receipt issued first (same
        ``receipt_no``), never a second receipt. CoreConflict, changing nothing, when any
        declaration is paid by another transaction or voided, or ``amount`` is not their sum.
        The receipt starts 已缴费 with ``remit_expected_at`` and ``in_treasury_expected_at``."""
        ...

    def tax_receipt_get(self, *, receipt_no: str, now: dt.datetime | None = None) -> TaxReceiptInfo | None:
        """The receipt as the core has it at ``now``: a read that writes nothing (the service's
        clock: the embedded core shows the treasury steps due by then, which its own treasury
        job saves; a real core answers its current state).
        The state never goes backwards between reads; each state not reached yet has
        its expected time, each state reached its time (paid_at ≤ remitted_at ≤ in_treasury_at)."""
        ...

    def tax_receipt_by_verify_code(self, *, verify_code: str, now: dt.datetime | None = None) -> TaxReceiptInfo | None:
        """The same receipt found by its verification code (the public verification page):
        a read that writes nothing; the state shown is the one ``tax_receipt_get`` would give."""
        ...

    def tax_receipts_list(self, *, registration_no: str) -> list[TaxReceiptInfo]:
        """Every receipt of this registration, newest first (one per channel transaction)."""
        ...

    # -- refunds (REQUIREMENTS §2.3) --------------------------------------------------------------

    def refund_refusal(self, *, registration_no: str) -> str | None:
        """Why no refund of this payer is accepted at all (on the locality's no-refund
        special-person list), in the person's words; None when refunds may be applied for."""
        ...

    def paid_items(self, *, registration_no: str, virtual_account: str = "") -> list[PaidItem]:
        """Every paid item (insurance type × fee period) of this registration, newest period
        first, with what was refunded of it and whether a refund of it is under way. With
        ``virtual_account``: only the items that virtual account declared and paid for this
        resident (none for an unknown identifier)."""
        ...

    def virtual_account_get(self, *, identifier: str) -> VirtualAccountInfo | None:
        """The virtual account with this 虚拟户识别号, or None."""
        ...

    def virtual_accounts_search(self, *, name_part: str, limit: int) -> list[VirtualAccountInfo]:
        """Virtual accounts whose name contains ``name_part`` literally (``%`` and ``_`` are
        plain characters), at most ``limit``, by name."""
        ...

    def virtual_lines(self, *, registration_no: str) -> list[VirtualLine]:
        """What virtual accounts declared for this resident (declared or paid), newest first;
        never another resident's lines."""
        ...

    def refund_sheet_get(self, *, sheet_no: str) -> RefundSheetInfo | None:
        """The refund assessment sheet with this number, or None."""
        ...

    def refund_submit(self, *, registration_no: str, kind: str, insurance_type_code: str, period: str, amount: Decimal,
                      application_ref: str, now: dt.datetime, virtual_account: str = "", sheet_no: str = "") -> RefundInfo:
        """Submit a refund of one paid item: state "submitted". Idempotent per
        ``application_ref`` (a repeat returns the refund submitted first). CoreConflict,
        changing nothing, when the applicant is a virtual account or on the no-refund list,
        the item is not paid (by ``virtual_account`` when given), a refund of it is already
        submitted, ``amount`` is not positive or would take the item's refunded total above
        what was paid, or (kind "normal") the item was paid through the special declaration
        form or ``amount`` is not its whole paid amount, or (kind "special" without a sheet)
        the item was not paid through the special form or ``amount`` is not its whole paid
        amount, or (with ``sheet_no``) the sheet is unknown, another payer's or item's,
        already used, or ``amount`` is not the sheet's assessed amount."""
        ...

    def refund_get(self, *, refund_no: str) -> RefundInfo | None:
        """The refund as the core has it now (a read that writes nothing); a decided one says
        when, a failed one why; an undecided one when the core expects to decide."""
        ...


class Core(CoreSystem, FeeCore, Protocol):
    """What ``shebao.adapters.core.get_core`` returns: both parts of the core."""
