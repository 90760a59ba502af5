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

    def issue_refund_sheet(self, person: SeededPerson, month: int, amount: Decimal) -> str:
        """Social security issues a refund assessment sheet (核定退费单) of ``amount`` for the
        person's paid item of ``month``; its number."""
        ...

    def pay_by_virtual_account(self, person: SeededPerson, month: int, *, identifier: str = "", name: str = "") -> str:
        """A virtual account declares and pays ``month`` for the person (a new account unless
        ``identifier`` names one made before); the 虚拟户识别号."""
        ...

    def supplement(self, person: SeededPerson, month: int, base_delta: Decimal) -> None:
        """A supplementary declaration (补充申报) of ``month`` raising its base by ``base_delta``, paid."""
        ...


class RefundContract:
    """Needs ``core``, ``builder`` and the helpers ``_declare`` / ``_pay`` of CoreContract."""

    def _paid(self, core: Core, builder, months: list[int]) -> tuple[SeededPerson, list]:
        person = builder.person()
        self._pay(core, builder, person, self._declare(core, builder, person, months), txn=f"42{person.registration_no[-14:]}")
        return person, core.paid_items(registration_no=person.registration_no)

    def _submit(self, core: Core, builder, person: SeededPerson, item, *, amount: Decimal | None = None, kind: str = "normal",
                ref: str = "app-1", sheet_no: str = "", virtual_account: str = "") -> RefundInfo:
        with transaction.atomic():
            return core.refund_submit(registration_no=person.registration_no, kind=kind, insurance_type_code=item.insurance_type_code,
                                      period=item.period, amount=item.paid_amount if amount is None else amount,
                                      application_ref=ref, now=builder.now(), sheet_no=sheet_no, virtual_account=virtual_account)

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

    def test_a_special_refund_by_sheet_may_be_partial_never_above_what_was_paid(self, core, builder):
        person, (item,) = self._paid(core, builder, [10])
        part = (item.paid_amount * Decimal("0.6")).quantize(Decimal("0.01"))
        first_sheet = builder.issue_refund_sheet(person, 10, part)
        sheet = core.refund_sheet_get(sheet_no=first_sheet)
        assert (sheet.registration_no, sheet.insurance_type_code, sheet.period, sheet.amount, sheet.used) == (
            person.registration_no, item.insurance_type_code, item.period, part, False)
        assert sheet.paid_amount == item.paid_amount and sheet.agency and sheet.reason and sheet.handler and sheet.assessed_on
        with pytest.raises(CoreConflict, match="核定退费金额"):  # the amount is the sheet's
            self._submit(core, builder, person, item, amount=part - Decimal("0.01"), kind="special", sheet_no=first_sheet)
        first = self._submit(core, builder, person, item, amount=part, kind="special", sheet_no=first_sheet)
        assert core.refund_sheet_get(sheet_no=first_sheet).used
        builder.let_refunds_be_decided(first.decide_expected_at)
        with pytest.raises(CoreConflict, match="已申请过退费"):
            self._submit(core, builder, person, item, amount=part, kind="special", sheet_no=first_sheet, ref="app-2")
        second_sheet = builder.issue_refund_sheet(person, 10, part)
        with pytest.raises(CoreConflict, match="不能超过可退金额"):
            self._submit(core, builder, person, item, amount=part, kind="special", sheet_no=second_sheet, ref="app-3")
        rest = self._submit(core, builder, person, item, amount=item.paid_amount - part, kind="special",
                            sheet_no=builder.issue_refund_sheet(person, 10, item.paid_amount - part), ref="app-4")
        assert rest.state == "submitted"

    def test_a_refund_sheet_is_the_payers_and_the_items_and_freed_by_a_failure(self, core, builder):
        person, items = self._paid(core, builder, [10, 11])
        other, _ = self._paid(core, builder, [10])
        sheet_no = builder.issue_refund_sheet(person, 10, Decimal("100.00"))
        october = next(i for i in items if i.period.endswith("10"))
        november = next(i for i in items if i.period.endswith("11"))
        with pytest.raises(CoreConflict, match="未查询到该核定退费单"):  # another payer's sheet
            self._submit(core, builder, other, october, amount=Decimal("100.00"), kind="special", sheet_no=sheet_no)
        with pytest.raises(CoreConflict, match="不一致"):  # another item
            self._submit(core, builder, person, november, amount=Decimal("100.00"), kind="special", sheet_no=sheet_no)
        with pytest.raises(CoreConflict, match="只用于特殊缴费"):
            self._submit(core, builder, person, october, amount=Decimal("100.00"), kind="normal", sheet_no=sheet_no)
        assert core.refund_sheet_get(sheet_no="HD000000000000") is None
        refund = self._submit(core, builder, person, october, amount=Decimal("100.00"), kind="special", sheet_no=sheet_no)
        builder.let_refunds_be_decided(refund.decide_expected_at, failure="收款账户已销户")
        assert not core.refund_sheet_get(sheet_no=sheet_no).used
        again = self._submit(core, builder, person, october, amount=Decimal("100.00"), kind="special", sheet_no=sheet_no, ref="app-2")
        assert again.state == "submitted"

    def test_a_special_refund_by_receipt_is_whole_and_only_of_special_fees(self, core, builder):
        person, (item,) = self._paid(core, builder, [10])
        with pytest.raises(CoreConflict, match="不是通过特殊缴费申报表缴纳"):
            self._submit(core, builder, person, item, kind="special")
        builder.pay_special(person, 9)
        special = next(i for i in core.paid_items(registration_no=person.registration_no) if i.special)
        with pytest.raises(CoreConflict, match="全额退费"):
            self._submit(core, builder, person, special, amount=special.paid_amount - Decimal("1.00"), kind="special")
        refund = self._submit(core, builder, person, special, kind="special", ref="app-2")
        assert (refund.kind, refund.amount) == ("special", special.paid_amount)

    def test_a_period_declared_twice_is_one_item_with_the_summed_base(self, core, builder):
        person, (item,) = self._paid(core, builder, [10])
        builder.supplement(person, 10, Decimal("1000.00"))
        (summed,) = core.paid_items(registration_no=person.registration_no)
        assert summed.base_amount == item.base_amount + Decimal("1000.00")
        assert summed.paid_amount > item.paid_amount and len(summed.receipt_nos) == 2
        refund = self._submit(core, builder, person, summed)
        assert refund.amount == summed.paid_amount
        with pytest.raises(CoreConflict):  # the first declaration's amount alone is not the whole
            self._submit(core, builder, person, item, ref="app-2")

    def test_a_virtual_accounts_lines_are_refunded_by_the_resident(self, core, builder):
        person, other = builder.person(), builder.person()
        identifier = builder.pay_by_virtual_account(person, 3, name="南宁市青秀区合约测试村民委员会")
        builder.pay_by_virtual_account(other, 3, identifier=identifier)
        assert core.paid_items(registration_no=person.registration_no) == []  # not the person's own receipts
        (line,) = core.paid_items(registration_no=person.registration_no, virtual_account=identifier)
        assert line.virtual_account == identifier and line.receipt_nos[0]
        assert [ln.period for ln in core.virtual_lines(registration_no=person.registration_no)] == [line.period]
        assert core.virtual_account_get(identifier=identifier).name == "南宁市青秀区合约测试村民委员会"
        assert core.paid_items(registration_no=person.registration_no, virtual_account="XN0000000000000000") == []
        with pytest.raises(CoreConflict, match="虚拟户不能作为退费申请人"):
            with transaction.atomic():
                core.refund_submit(registration_no=identifier, kind="normal", insurance_type_code=line.insurance_type_code,
                                   period=line.period, amount=line.paid_amount, application_ref="va-1", now=builder.now())
        assert "虚拟户" in core.refund_refusal(registration_no=identifier)
        with pytest.raises(CoreConflict, match="未查询到"):  # without the virtual account, the item is not the person's
            self._submit(core, builder, person, line)
        refund = self._submit(core, builder, person, line, virtual_account=identifier)
        assert refund.amount == line.paid_amount
        (after,) = core.paid_items(registration_no=person.registration_no, virtual_account=identifier)
        assert after.in_refund
        (others,) = core.paid_items(registration_no=other.registration_no, virtual_account=identifier)
        assert not others.in_refund

    def test_a_period_a_virtual_account_declared_cannot_be_declared_again(self, core, builder):
        person = builder.person()
        identifier = builder.pay_by_virtual_account(person, 4)
        taken = core.periods_taken(registration_no=person.registration_no, contribution_year=builder.contribution_year)
        assert taken[builder.item().insurance_type_code][f"{builder.contribution_year}04"] == "paid"
        with pytest.raises(CoreConflict, match="虚拟户"):
            self._declare(core, builder, person, [4])
        assert core.virtual_account_get(identifier=identifier) is not None

    def test_virtual_accounts_are_found_by_a_literal_part_of_their_name(self, core, builder):
        person = builder.person()
        builder.pay_by_virtual_account(person, 5, name="合约测试%_社区居民委员会")
        builder.pay_by_virtual_account(person, 6, name="合约测试甲社区居民委员会")
        names = [va.name for va in core.virtual_accounts_search(name_part="合约测试", limit=10)]
        assert {"合约测试%_社区居民委员会", "合约测试甲社区居民委员会"} <= set(names)
        assert [va.name for va in core.virtual_accounts_search(name_part="%_", limit=10)] == ["合约测试%_社区居民委员会"]
        assert core.virtual_accounts_search(name_part="_", limit=10) == [
            va for va in core.virtual_accounts_search(name_part="_", limit=10) if "_" in va.name]
        assert len(core.virtual_accounts_search(name_part="合约测试", limit=1)) == 1

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
        sheets = [builder.issue_refund_sheet(person, 11, part) for _ in range(8)]

        def submit_and_decide(n: int) -> RefundInfo:
            refund = self._submit(core, builder, person, item, amount=part, kind="special", ref=f"part-{n}", sheet_no=sheets[n])
            builder.let_refunds_be_decided(refund.decide_expected_at)
            return refund

        results, errors = self._concurrently(submit_and_decide, threads=8)  # 8 partial refunds of 60 %: one
        assert len(results) == 1 and all(isinstance(e, CoreConflict) for e in errors), errors
        (after,) = core.paid_items(registration_no=person.registration_no)
        assert after.refunded_amount == part <= after.paid_amount
