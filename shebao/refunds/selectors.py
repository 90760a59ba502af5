"""Refund reads for the person's pages: only their own applications, ever."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shebao.adapters.core import get_core
from shebao.adapters.core.port import PaidItem
from shebao.refunds.models import RefundApplication, RefundKind, RefundState
from shebao.refunds.services import item_refusal


@dataclass(frozen=True)
class ItemChoice:
    item: PaidItem
    refusal: str | None

    @property
    def key(self) -> str:
        return f"{self.item.insurance_type_code}:{self.item.period}"

    @property
    def period_label(self) -> str:
        return f"{self.item.period[:4]}年{int(self.item.period[4:])}月"


def normal_refund_choices(*, registration_no: str) -> list[ItemChoice]:
    return [ItemChoice(i, item_refusal(i, kind=RefundKind.NORMAL)) for i in get_core().paid_items(registration_no=registration_no)]


def application_list(*, account) -> list[RefundApplication]:
    return list(RefundApplication.objects.filter(account=account).order_by("-accepted_at"))


def application_get(*, account, public_id: str) -> RefundApplication | None:
    """This person's application, or None (another person's is "not found")."""
    return RefundApplication.objects.filter(account=account, public_id=public_id).first()


@dataclass(frozen=True)
class Step:
    label: str
    done_at: dt.datetime | None
    expected_at: dt.datetime | None
    failed: bool = False


def timeline(application: RefundApplication) -> tuple[Step, ...]:
    """受理 → 已提交 → 退库成功 / 退库失败, with the expected time of the next step."""
    last_label = "退库失败" if application.state == RefundState.FAILED else "退库成功"
    return (
        Step("受理", application.accepted_at, None),
        Step("已提交", application.submitted_at, None if application.submitted_at else application.next_expected_at),
        Step(last_label, application.decided_at, None if application.decided_at else application.next_expected_at,
             failed=application.state == RefundState.FAILED),
    )
