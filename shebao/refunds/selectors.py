"""Refund reads for the person's pages: only their own applications, ever."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shebao.adapters.core import get_core
from shebao.adapters.core.port import PaidItem, VirtualAccountInfo
from shebao.refunds.models import RefundApplication, RefundKind, RefundState, period_label
from shebao.refunds.services import RefundError, item_refusal

SEARCH_MIN, SEARCH_MAX, SEARCH_CAP = 2, 30, 20


@dataclass(frozen=True)
class ItemChoice:
    item: PaidItem
    refusal: str | None

    @property
    def key(self) -> str:
        return f"{self.item.insurance_type_code}:{self.item.period}"

    @property
    def period_label(self) -> str:
        return period_label(self.item.period, yearly=self.item.base_amount is None)


def normal_refund_choices(*, registration_no: str, virtual_account: str = "") -> list[ItemChoice]:
    """The person's own paid items, or (``virtual_account``) what that account paid for them."""
    items = get_core().paid_items(registration_no=registration_no, virtual_account=virtual_account)
    return [ItemChoice(i, item_refusal(i, kind=RefundKind.NORMAL)) for i in items]


def special_refund_choices(*, registration_no: str) -> list[ItemChoice]:
    """The person's paid items for a special refund by receipt: those of the special form first."""
    items = sorted(get_core().paid_items(registration_no=registration_no), key=lambda i: not i.special)
    return [ItemChoice(i, item_refusal(i, kind=RefundKind.SPECIAL)) for i in items]


def person_refusal(*, registration_no: str) -> str | None:
    """Why this payer may not apply for any refund (the no-refund special-person list), or None."""
    return get_core().refund_refusal(registration_no=registration_no)


def virtual_account_search(text: str) -> list[VirtualAccountInfo]:
    """虚拟户 by a part of their name: 2 to 30 characters, matched literally, at most 20."""
    text = (text or "").strip()
    if not text:
        raise RefundError("请输入虚拟户名称中的文字")
    if len(text) < SEARCH_MIN:
        raise RefundError(f"请至少输入{SEARCH_MIN}个字")
    if len(text) > SEARCH_MAX:
        raise RefundError(f"虚拟户名称不超过{SEARCH_MAX}个字")
    return get_core().virtual_accounts_search(name_part=text, limit=SEARCH_CAP)


def virtual_account_get(identifier: str) -> VirtualAccountInfo | None:
    return get_core().virtual_account_get(identifier=identifier)


def application_by_verify_code(code: str) -> RefundApplication | None:
    """A decided application by its letter's verification code (the public check), or None."""
    if not 6 <= len(code) <= 16:
        return None
    return (RefundApplication.objects.filter(verify_code=code, state__in=[RefundState.SUCCEEDED, RefundState.FAILED])
            .first())


def virtual_lines(*, registration_no: str):
    """What virtual accounts declared for this resident (the 自主模式 query)."""
    return get_core().virtual_lines(registration_no=registration_no)


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
