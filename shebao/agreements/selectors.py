"""Reads of the deduction agreements (REQUIREMENTS §3 "deduction agreements signed, for both
groups"): a person's agreements of both kinds with their state, one of them, its timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shebao.agreements.models import ThreePartyAgreement, TwoPartyAgreement
from shebao.common.states import StateTransition


@dataclass(frozen=True)
class AgreementLine:
    """One agreement as the query page lists it: no full account number, no ID number."""

    kind: str  # "three_party" | "two_party"
    kind_label: str
    public_id: str
    agreement_no: str
    payer_name: str
    for_self: bool
    bank_name: str
    account_masked: str
    state: str
    state_label: str
    failure_reason: str
    created_at: dt.datetime


def agreement_list(*, account) -> list[AgreementLine]:
    """Every agreement the person signed, both kinds, newest first."""
    lines = [AgreementLine("three_party", "三方协议", a.public_id, a.agreement_no, a.payer_name, True, a.bank_name, a.account_masked,
                           a.state, a.get_state_display(), a.failure_reason, a.created_at)
             for a in ThreePartyAgreement.objects.filter(account=account)]
    lines += [AgreementLine("two_party", "两两协议", a.public_id, a.agreement_no, a.payer_name, a.for_self, a.bank_name,
                            a.account_masked, a.state, a.get_state_display(), a.failure_reason, a.created_at)
              for a in TwoPartyAgreement.objects.filter(account=account)]
    return sorted(lines, key=lambda line: (line.created_at, line.agreement_no), reverse=True)


def three_party_get(*, account, public_id: str) -> ThreePartyAgreement | None:
    """The person's own agreement, or None (another person's is "not found")."""
    return ThreePartyAgreement.objects.filter(account=account, public_id=public_id).first()


def two_party_get(*, account, public_id: str) -> TwoPartyAgreement | None:
    return TwoPartyAgreement.objects.filter(account=account, public_id=public_id).first()


def agreement_timeline(agreement: ThreePartyAgreement | TwoPartyAgreement) -> list[StateTransition]:
    """Each state the agreement went through (signing first), oldest first."""
    return list(StateTransition.objects.filter(model=type(agreement)._meta.label_lower, object_ref=agreement.public_id)
                .order_by("at", "pk"))


def batch_items_list(*, account, pending_only: bool = False):
    """待批扣清册 of the person (the items whose agreement they signed), newest task first:
    the pending ones only for 作废, every one for the query."""
    from shebao.agreements.batch_models import BatchDeductionItem, BatchItemState

    rows = BatchDeductionItem.objects.filter(account=account).select_related("task")
    if pending_only:
        rows = rows.filter(state=BatchItemState.PENDING)
    return list(rows.order_by("-task__deduction_on", "-pk"))
