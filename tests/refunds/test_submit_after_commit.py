"""A refund application is committed (受理) before the core hears of it, and submitted after that
commit: a core that does not answer leaves it accepted for the job to submit again (the same core
refund, never a second); a core that refuses it by then ends it as 退库失败 with the reason and
its amount given back; nothing the core accepted is ever unknown to us."""

from __future__ import annotations

import pytest

from shebao.adapters.core import get_core
from shebao.adapters.core.port import CoreConflict, CoreUnavailable
from shebao.archive.models import ArchiveRecord
from shebao.audit.models import AuditEvent
from shebao.core.models import CoreRefund
from shebao.refunds.models import RefundApplication, RefundItemBalance, RefundLedgerEntry
from shebao.refunds.services import refunds_follow_up
from tests.refunds.helpers import MONTHLY
from tests.refunds.test_normal_refund import _apply, paid  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def _core_failing(monkeypatch, error: Exception) -> list[str]:
    calls: list[str] = []
    core_class = type(get_core())

    def failing(self, **kwargs):
        calls.append(kwargs["application_ref"])
        raise error

    monkeypatch.setattr(core_class, "refund_submit", failing)
    return calls


def test_a_core_that_does_not_answer_leaves_the_application_accepted_for_the_job(paid, clock, monkeypatch):  # noqa: F811
    account, reg = paid
    calls = _core_failing(monkeypatch, CoreUnavailable("timeout"))
    application = _apply(account, reg, clock)
    assert (application.state, application.core_refund_no, calls) == ("accepted", "", [application.public_id])
    assert RefundItemBalance.objects.get().committed == MONTHLY  # reserved: no second application of the item meanwhile
    assert ArchiveRecord.objects.filter(business_type="refund", business_ref=application.application_no).count() == 1
    assert CoreRefund.objects.count() == 0

    assert refunds_follow_up(now=clock.now)["submitted"] == 0  # still no answer: still accepted
    monkeypatch.undo()
    assert refunds_follow_up(now=clock.now)["submitted"] == 1
    done = RefundApplication.objects.get()
    assert done.state == "submitted" and done.core_refund_no == CoreRefund.objects.get().refund_no
    assert refunds_follow_up(now=clock.now)["submitted"] == 0
    assert CoreRefund.objects.count() == 1
    assert AuditEvent.objects.filter(action="refund.submitted", subject_ref=done.public_id).count() == 1


def test_a_core_answer_lost_after_it_accepted_is_found_again_not_doubled(paid, clock, monkeypatch):  # noqa: F811
    account, reg = paid
    core_class = type(get_core())
    accepted = core_class.refund_submit

    def accepted_then_lost(self, **kwargs):
        accepted(self, **kwargs)
        raise CoreUnavailable("the answer was lost")

    monkeypatch.setattr(core_class, "refund_submit", accepted_then_lost)
    application = _apply(account, reg, clock)
    assert application.state == "accepted" and CoreRefund.objects.count() == 1
    monkeypatch.undo()
    refunds_follow_up(now=clock.now)
    assert RefundApplication.objects.get().core_refund_no == CoreRefund.objects.get().refund_no  # the same one


def test_a_core_that_refuses_by_then_ends_it_failed_and_gives_the_amount_back(paid, clock, monkeypatch):  # noqa: F811
    account, reg = paid
    _core_failing(monkeypatch, CoreConflict("该险种该所属期已有退费申请正在办理"))
    application = _apply(account, reg, clock)
    assert (application.state, application.failure_reason) == ("failed", "该险种该所属期已有退费申请正在办理")
    assert application.decision_label == "不予退费"
    assert RefundItemBalance.objects.get().committed == 0
    assert list(RefundLedgerEntry.objects.order_by("pk").values_list("kind", "amount")) == [("reserve", MONTHLY), ("release", -MONTHLY)]
    assert ArchiveRecord.objects.filter(business_type="refund_decision", business_ref=application.application_no).count() == 1
    monkeypatch.undo()
    assert refunds_follow_up(now=clock.now)["submitted"] == 0  # a failed application is not submitted again
    assert CoreRefund.objects.count() == 0
