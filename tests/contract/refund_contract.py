"""The refund part of the CoreSystem/FeeCore contract (REQUIREMENTS §2.3): what the service
relies on from any core. Mixed into ``CoreContract``'s subclasses beside it; the builder
provides the implementation's own ways to put a person on the no-refund list, to pay an item
through the special declaration form, and to let the core decide its refunds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Protocol

import pytest
from django.db import transaction

from shebao.adapters.core.port import Core, CoreConflict, RefundInfo
from tests.contract.core_contract import CoreFixtureBuilder, SeededPerson


class RefundFixtureBuilder(CoreFixtureBuilder, Protocol):
    def put_on_no_refund_list(self, person: SeededPerson) -> None:
        """Put the person on their locality's no-refund special-person list."""
        ...

    def pay_special(self, person: SeededPerson, month: int) -> None:
        """A paid item of ``month`` paid through the special declaration form (社保核定)."""
        ...

    def let_refunds_be_decided(self, now: dt.datetime, *, failure: str = "") -> None:
        """Let the core decide its refunds due by ``now`` (``failure``: they fail with it)."""
        ...


class RefundContract:
    """Needs ``core``, ``builder`` and the helpers ``_declare`` / ``_pay`` of CoreContract."""

    def _paid(self, core: Core, builder, months: list[int]) -> tuple[SeededPerson, list]:
        person = builder.person()
        self._pay(core, builder, person, self._declare(core, builder, person, months))
        return person, core.paid_items(registration_no=person.registration_no)

    def _submit(self, core: Core, builder, person: SeededPerson, item, *, amount: Decimal | None = None, kind: str = "normal",
                ref: str = "app-1") -> RefundInfo:
        with transaction.atomic():
            return core.refund_submit(registration_no=person.registration_no, kind=kind, insurance_type_code=item.insurance_type_code,
                                      period=item.period, amount=item.paid_amount if amount is None else amount,
                                      application_ref=ref, now=builder.now())

    def test_paid_items_are_one_per_insurance_type_and_period(self, core, builder):
        person, items = self._paid(core, builder, [10, 11])
        year, unit = builder.contribution_year, builder.item()
        assert [(i.period, i.paid_amount, i.base_amount, i.special, i.in_refund, i.refunded_amount) for i in items] == [
            (f"{year}11", unit.monthly, unit.base_amount, False, False, Decimal("0.00")),
            (f"{year}10", unit.monthly, unit.base_amount, False, False, Decimal("0.00")),
        ]
        assert len(items[0].receipt_nos) == 1 and items[0].receipt_nos == items[1].receipt_nos
        assert core.refund_refusal(registration_no=person.registration_no) is None

    def test_a_normal_refund_is_submitted_once_and_decided(self, core, builder):
        person, (item,) = self._paid(core, builder, [10])
        refund = self._submit(core, builder, person, item)
        assert (refund.state, refund.amount, refund.decided_at) == ("submitted", item.paid_amount, None)
        assert refund.decide_expected_at > refund.submitted_at
        assert self._submit(core, builder, person, item).refund_no == refund.refund_no  # the same application again
        (now_item,) = core.paid_items(registration_no=person.registration_no)
        assert now_item.in_refund
        with pytest.raises(CoreConflict, match="已有退费申请正在办理"):
            self._submit(core, builder, person, item, ref="app-2")
        builder.let_refunds_be_decided(refund.decide_expected_at)
        decided = core.refund_get(refund_no=refund.refund_no)
        assert decided.state == "succeeded" and decided.decided_at is not None and decided.decide_expected_at is None
        (done,) = core.paid_items(registration_no=person.registration_no)
        assert (done.in_refund, done.refunded_amount) == (False, item.paid_amount)
        with pytest.raises(CoreConflict):  # nothing left to refund
            self._submit(core, builder, person, item, ref="app-3")

    def test_a_failed_refund_says_why_and_frees_the_item(self, core, builder):
        person, (item,) = self._paid(core, builder, [10])
        refund = self._submit(core, builder, person, item)
        builder.let_refunds_be_decided(refund.decide_expected_at, failure="收款账户已销户")
        failed = core.refund_get(refund_no=refund.refund_no)
        assert (failed.state, failed.reason) == ("failed", "收款账户已销户")
        again = self._submit(core, builder, person, item, ref="app-2")
        assert again.state == "submitted" and again.refund_no != refund.refund_no

    def test_a_normal_refund_is_whole(self, core, builder):
        person, (item,) = self._paid(core, builder, [10])
        for amount in (item.paid_amount - Decimal("0.01"), item.paid_amount + Decimal("0.01"), Decimal("0.00"), Decimal("-1.00")):
            with pytest.raises(CoreConflict):
                self._submit(core, builder, person, item, amount=amount, ref=f"app-{amount}")
        assert not core.paid_items(registration_no=person.registration_no)[0].in_refund

    def test_a_special_refund_may_be_partial_never_above_what_was_paid(self, core, builder):
        person, (item,) = self._paid(core, builder, [10])
        part = (item.paid_amount * Decimal("0.6")).quantize(Decimal("0.01"))
        first = self._submit(core, builder, person, item, amount=part, kind="special")
        builder.let_refunds_be_decided(first.decide_expected_at)
        with pytest.raises(CoreConflict, match="不能超过可退金额"):
            self._submit(core, builder, person, item, amount=part, kind="special", ref="app-2")
        rest = self._submit(core, builder, person, item, amount=item.paid_amount - part, kind="special", ref="app-3")
        assert rest.state == "submitted"

    def test_an_item_paid_by_the_special_form_has_no_normal_refund(self, core, builder):
        person = builder.person()
        builder.pay_special(person, 9)
        (item,) = core.paid_items(registration_no=person.registration_no)
        assert item.special
        with pytest.raises(CoreConflict, match="特殊缴费"):
            self._submit(core, builder, person, item)

    def test_a_person_on_the_no_refund_list_is_refused(self, core, builder):
        person, (item,) = self._paid(core, builder, [10])
        builder.put_on_no_refund_list(person)
        assert "不予退费" in core.refund_refusal(registration_no=person.registration_no)
        with pytest.raises(CoreConflict, match="不予退费"):
            self._submit(core, builder, person, item)

    def test_an_unpaid_or_unknown_item_is_refused(self, core, builder):
        person = builder.person()
        self._declare(core, builder, person, [10])  # declared, not paid
        assert core.paid_items(registration_no=person.registration_no) == []
        with pytest.raises(CoreConflict, match="未查询到"):
            with transaction.atomic():
                core.refund_submit(registration_no=person.registration_no, kind="normal",
                                   insurance_type_code=builder.item().insurance_type_code, period=f"{builder.contribution_year}10",
                                   amount=builder.item().monthly, application_ref="app-1", now=builder.now())
        assert core.refund_get(refund_no="44000000000000000000") is None

    @pytest.mark.postgres_only
    @pytest.mark.django_db(transaction=True)
    def test_concurrent_refunds_of_one_item_submit_one(self, core, builder):
        if (reason := builder.concurrency_skip_reason()) is not None:
            pytest.skip(reason)
        person, (item,) = self._paid(core, builder, [10])
        results, errors = self._concurrently(lambda n: self._submit(core, builder, person, item, ref=f"app-{n}"))
        assert len(results) == 1 and len(errors) == self.THREADS - 1
        assert all(isinstance(e, CoreConflict) for e in errors), errors

    @pytest.mark.postgres_only
    @pytest.mark.django_db(transaction=True)
    def test_concurrent_partial_refunds_never_exceed_what_was_paid(self, core, builder):
        if (reason := builder.concurrency_skip_reason()) is not None:
            pytest.skip(reason)
        person, (item,) = self._paid(core, builder, [11])
        part = (item.paid_amount * Decimal("0.6")).quantize(Decimal("0.01"))

        def submit_and_decide(n: int) -> RefundInfo:
            refund = self._submit(core, builder, person, item, amount=part, kind="special", ref=f"part-{n}")
            builder.let_refunds_be_decided(refund.decide_expected_at)
            return refund

        results, errors = self._concurrently(submit_and_decide)
        assert len(results) == 1 and all(isinstance(e, CoreConflict) for e in errors), errors
        (after,) = core.paid_items(registration_no=person.registration_no)
        assert after.refunded_amount == part <= after.paid_amount
