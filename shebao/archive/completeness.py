"""Archive completeness (REQUIREMENTS §6 资料自动归档): every completed business
has exactly one archive record -- no business without its record, no record
archived twice, no record for a business that never completed.

Where the facts come from, per business:

- payment: the business row itself -- every ``PaymentOrder`` in state PAID has
  one ``payment`` record with ``business_ref`` = the order's public id.
- registration and information upkeep have no business row of their own (the
  account row is also made by ``seed_demo`` and overwritten by upkeep), so the
  fact is the successful audit event written in the same transaction as the
  archive record: ``account.register`` (one ``registration`` record with
  ``business_ref`` = the account's public id) and ``account.change_mobile`` /
  ``account.change_address`` (per account, as many ``info_update`` records as
  such events).
- refunds and agreements: add a rule to :data:`RULES` when those businesses come.

Unsealed records count: completeness is about the record existing (it commits
with the business); whether it is sealed is ``verify_archive``'s question."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from shebao.archive.models import ArchiveRecord, BusinessType


@dataclass(frozen=True)
class Gap:
    """One business whose archive count is not what it should be."""

    business_type: str
    business_ref: str
    expected: int
    found: int

    def __str__(self) -> str:
        label = BusinessType(self.business_type).label
        if self.found == 0:
            what = "缺少归档记录"
        elif self.expected == 0:
            what = f"有 {self.found} 条归档记录，但没有对应的已完成业务"
        else:
            what = f"应有 {self.expected} 条归档记录，实有 {self.found} 条"
        return f"{label} {self.business_ref}：{what}"


def _archived(business_type: str, key: Callable[[str, str], str]) -> Counter[str]:
    rows = ArchiveRecord.objects.filter(business_type=business_type).values_list("business_ref", "subject_ref")
    return Counter(key(ref, subject) for ref, subject in rows.iterator(chunk_size=2000))


def _compare(business_type: str, expected: Counter[str], found: Counter[str]) -> Iterable[Gap]:
    for ref in sorted(set(expected) | set(found)):
        if expected[ref] != found[ref]:
            yield Gap(business_type, ref, expected[ref], found[ref])


def _registrations() -> Iterable[Gap]:
    from shebao.audit.models import AuditEvent

    done = AuditEvent.objects.filter(action="account.register", outcome="success").values_list("subject_ref", flat=True)
    expected = Counter(set(done.iterator(chunk_size=2000)))  # a registration is one business, however often audited
    return _compare(BusinessType.REGISTRATION, expected, _archived(BusinessType.REGISTRATION, lambda ref, subject: ref))


def _info_updates() -> Iterable[Gap]:
    from shebao.audit.models import AuditEvent

    done = AuditEvent.objects.filter(action__in=["account.change_mobile", "account.change_address"], outcome="success")
    expected = Counter(done.values_list("subject_ref", flat=True).iterator(chunk_size=2000))
    # business_ref names the field and the second; counted per account (subject_ref)
    return _compare(BusinessType.INFO_UPDATE, expected, _archived(BusinessType.INFO_UPDATE, lambda ref, subject: subject))


def _payments() -> Iterable[Gap]:
    from shebao.fees.models import OrderState, PaymentOrder

    expected = Counter(PaymentOrder.objects.filter(state=OrderState.PAID).values_list("public_id", flat=True).iterator(chunk_size=2000))
    return _compare(BusinessType.PAYMENT, expected, _archived(BusinessType.PAYMENT, lambda ref, subject: ref))


def _payment_refunds() -> Iterable[Gap]:
    from shebao.fees.models import PaymentRefund, PaymentRefundState

    done = PaymentRefund.objects.filter(state=PaymentRefundState.SUCCEEDED).values_list("out_refund_no", flat=True)
    return _compare(BusinessType.PAYMENT_REFUND, Counter(done.iterator(chunk_size=2000)),
                    _archived(BusinessType.PAYMENT_REFUND, lambda ref, subject: ref))


RULES: dict[str, Callable[[], Iterable[Gap]]] = {
    BusinessType.REGISTRATION: _registrations,
    BusinessType.INFO_UPDATE: _info_updates,
    BusinessType.PAYMENT: _payments,
    BusinessType.PAYMENT_REFUND: _payment_refunds,
}
"""The businesses checked; refund applications and agreements join when their checks are written."""


def archive_completeness() -> list[Gap]:
    """Every gap, business by business (empty when the archive is complete)."""
    return [gap for rule in RULES.values() for gap in rule()]
