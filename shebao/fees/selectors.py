"""Reads of the fee business, always scoped to the logged-in person."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse

from shebao.accounts.models import Account
from shebao.adapters.core import get_core
from shebao.adapters.core.port import PayerProfile, TaxReceiptInfo
from shebao.common.masking import mask_id_number
from shebao.fees.models import PaymentAttempt, PaymentOrder
from shebao.fees.quotes import item_order
from shebao.fees.receipt_view import ReceiptLine, ReceiptView, TimelineStep


def payer_profile_for(account: Account) -> PayerProfile | None:
    """The person's payer profile at the core by their own three elements (one call)."""
    return get_core().payer_profile_by_identity(name=account.name, id_type=account.id_type, id_number=account.id_number)


def order_get(*, account: Account, public_id: str) -> PaymentOrder | None:
    """An order of this person's, or None (another person's order is "not found")."""
    return PaymentOrder.objects.filter(account=account, public_id=public_id).first()


def order_for_declare_key(*, account: Account, key: str) -> PaymentOrder | None:
    """The bill a declare form (by its idempotency key, scope as in
    ``services.declaration_submit``) has already opened: a second tap on 确认
    finds its months declared, and goes to that bill instead of a refusal."""
    from shebao.common.models import IdempotencyKey

    row = IdempotencyKey.objects.filter(scope=f"declare:{account.public_id}", key=key).exclude(result="").first()
    return None if row is None else order_get(account=account, public_id=row.result)


def order_list(*, account: Account):
    return PaymentOrder.objects.filter(account=account).order_by("-created_at")


def attempt_latest(order: PaymentOrder) -> PaymentAttempt | None:
    return order.attempts.order_by("-created_at").first()


def charged_not_kept(order: PaymentOrder) -> list[PaymentAttempt]:
    """The bill's payments that the channel charged and no bill keeps (a second payment, or one
    the core refused), each with its refund back the way it came (``attempt.refund``) if any."""
    from shebao.fees.models import AttemptState

    states = (AttemptState.DUPLICATE, AttemptState.REFUND_DUE, AttemptState.REFUNDED)
    return list(order.attempts.filter(state__in=states).select_related("refund").order_by("paid_at"))


def in_item_order(declarations):
    """Declarations (DeclarationInfo) in the one item order of the form, the bill,
    the receipt and its PDF (``quotes.item_order``), then by period."""
    return sorted(declarations, key=lambda d: (item_order(d.insurance_type_code), d.period_from, d.declaration_no))


def _period(yyyymm: str) -> str:
    return f"{yyyymm[:4]}-{yyyymm[4:]}"


def timeline(info: TaxReceiptInfo) -> tuple[TimelineStep, ...]:
    """已缴费 → 已上解未入库 → 已入库, with when each happened or, as the core states it
    (the port's ``*_expected_at``), is expected: the domain computes no treasury times."""
    return (
        TimelineStep("已缴费", info.paid_at, None),
        TimelineStep("已上解未入库", info.remitted_at, None if info.remitted_at else info.remit_expected_at),
        TimelineStep("已入库", info.in_treasury_at, None if info.in_treasury_at else info.in_treasury_expected_at),
    )


def receipt_view(*, account: Account, order: PaymentOrder, now: dt.datetime, channel_label: str) -> ReceiptView | None:
    """The receipt of a paid order (REQUIREMENTS §2.2), state as the core says now."""
    if not order.receipt_no:
        return None
    core = get_core()
    info = core.tax_receipt_get(receipt_no=order.receipt_no, now=now)
    if info is None or info.registration_no != order.registration_no:
        return None
    lines = tuple(
        ReceiptLine(d.insurance_type, _period(d.period_from), _period(d.period_to), d.base_amount, d.amount)
        for d in in_item_order(info.declarations)
    )
    return ReceiptView(
        receipt_no=info.receipt_no, payer_name=account.name, id_number_masked=mask_id_number(account.id_number),
        agency=info.agency, person_no=info.person_no, tax_office=info.tax_office, lines=lines, total_amount=info.amount,
        paid_at=info.paid_at, channel=channel_label, bank_serial_no=info.bank_serial_no, state=info.state_label, queried_at=now,
        timeline=timeline(info), verify_url=settings.SELF_URL + reverse("receipt_verify", args=[info.verify_code]),
        verify_code=info.verify_code,
    )
