"""The CoreSystem/FeeCore contract (shebao/adapters/core/port.py) as a reusable suite.

Every implementation of the port runs it: subclass ``CoreContract`` in a ``test_*.py``
module and give it a ``core_impl`` fixture returning ``(core, builder)``: the
implementation and a ``CoreFixtureBuilder`` that seeds the implementation's own test
data (for the real core: its test people). tests/contract/test_embedded_core.py is
the embedded core's. Each test names the port promise it checks.

The suite calls the writes inside ``transaction.atomic()``, as the service does
(``shebao.fees.services``): an implementation over our database joins that
transaction, one over HTTP ignores it."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import pytest
from django.db import connection, transaction

from shebao.adapters.core.port import Core, CoreConflict, DeclarationInfo, DeclarationRequest, TaxReceiptInfo

# the order of the treasury states: never backwards (port: tax_receipt_get)
TREASURY_ORDER = {"paid": 0, "remitted": 1, "in_treasury": 2}


@dataclass(frozen=True)
class SeededPerson:
    """A payer the builder registered at the core: the three elements and the 登记序号."""

    name: str
    id_type: str
    id_number: str
    registration_no: str


@dataclass(frozen=True)
class MonthlyItem:
    """An insurance type the seeded person is enrolled in, declared month by month."""

    insurance_type_code: str
    base_amount: Decimal
    rate: Decimal

    @property
    def monthly(self) -> Decimal:
        return (self.base_amount * self.rate).quantize(Decimal("0.01"))


class CoreFixtureBuilder(Protocol):
    """What an implementation provides so the contract runs on its own test data."""

    contribution_year: int

    def person(self) -> SeededPerson:
        """A new payer, registered and enrolled in ``item()``, with nothing declared."""
        ...

    def unknown_identity(self) -> tuple[str, str]:
        """(document type, number) of a valid document the core holds no registration for."""
        ...

    def item(self) -> MonthlyItem: ...

    def now(self) -> dt.datetime:
        """A time of the contribution year at which declarations and payments are accepted."""
        ...

    def let_treasury_run(self, now: dt.datetime) -> None:
        """Let the core's own treasury work run up to ``now`` (the embedded core: its treasury
        job, which saves the steps due; a real core moves on its own: nothing to do)."""
        ...

    def treasury_follows_now(self) -> bool:
        """True when ``tax_receipt_get(now=...)`` reaches each state by its expected time
        (the embedded core); False for a core whose treasury moves on its own clock."""
        ...

    def concurrency_skip_reason(self) -> str | None:
        """Why concurrent writes cannot be tested here (e.g. the embedded core on SQLite,
        which has no row locks and serialises writers anyway), or None to test them."""
        ...


class CoreContract:
    """The port's promises; subclasses provide the ``core_impl`` fixture."""

    @pytest.fixture
    def core(self, core_impl) -> Core:
        return core_impl[0]

    @pytest.fixture
    def builder(self, core_impl) -> CoreFixtureBuilder:
        return core_impl[1]

    # -- helpers -------------------------------------------------------------------------------

    def _declare(self, core: Core, builder: CoreFixtureBuilder, person: SeededPerson, months: list[int]) -> list[DeclarationInfo]:
        item, year = builder.item(), builder.contribution_year
        periods = [f"{year}{m:02d}" for m in months]
        request = DeclarationRequest(
            insurance_type_code=item.insurance_type_code, contribution_year=year, period_from=periods[0], period_to=periods[-1],
            base_amount=item.base_amount, rate=item.rate, lines=tuple((p, item.monthly) for p in periods), rule_refs=("合约测试",),
        )
        with transaction.atomic():
            return core.declaration_submit(registration_no=person.registration_no, requests=[request], now=builder.now())

    def _pay(self, core: Core, builder: CoreFixtureBuilder, person: SeededPerson, declarations: list[DeclarationInfo], *,
             txn: str = "4200000000000001", amount: Decimal | None = None) -> TaxReceiptInfo:
        total = sum((d.amount for d in declarations), Decimal("0.00")) if amount is None else amount
        with transaction.atomic():
            return core.payment_record(registration_no=person.registration_no, declaration_nos=[d.declaration_no for d in declarations],
                                       channel="wechatpay", transaction_id=txn, amount=total, paid_at=builder.now())

    def _void(self, core: Core, builder: CoreFixtureBuilder, person: SeededPerson, declaration: DeclarationInfo) -> None:
        with transaction.atomic():
            core.declaration_void(registration_no=person.registration_no, declaration_no=declaration.declaration_no,
                                  reason="合约测试作废", now=builder.now())

    def _taken(self, core: Core, builder: CoreFixtureBuilder, person: SeededPerson) -> dict[str, str]:
        taken = core.periods_taken(registration_no=person.registration_no, contribution_year=builder.contribution_year)
        return taken.get(builder.item().insurance_type_code, {})

    # -- registration by the three elements -----------------------------------------------------

    def test_three_elements_find_the_registration(self, core, builder):
        person = builder.person()
        assert core.registration_find(name=person.name, id_type=person.id_type, id_number=person.id_number) == person.registration_no
        assert core.registration_name_matches(name=person.name, id_type=person.id_type, id_number=person.id_number) is True
        profile = core.payer_profile_by_identity(name=person.name, id_type=person.id_type, id_number=person.id_number)
        assert profile is not None and profile.registration_no == person.registration_no
        assert builder.item().insurance_type_code in profile.enrolled_types
        assert core.payer_profile(registration_no=person.registration_no) == profile
        info = core.insured_info(registration_no=person.registration_no)
        assert info.registration_no == person.registration_no
        assert builder.item().insurance_type_code in {i.insurance_type_code for i in info.items}

    def test_a_wrong_name_finds_nothing_and_is_told_as_a_mismatch(self, core, builder):
        person = builder.person()
        other = person.name + "甲"
        assert core.registration_find(name=other, id_type=person.id_type, id_number=person.id_number) is None
        assert core.payer_profile_by_identity(name=other, id_type=person.id_type, id_number=person.id_number) is None
        assert core.registration_name_matches(name=other, id_type=person.id_type, id_number=person.id_number) is False

    def test_an_unknown_document_finds_nothing_and_has_no_registration(self, core, builder):
        person = builder.person()
        id_type, id_number = builder.unknown_identity()
        assert core.registration_find(name=person.name, id_type=id_type, id_number=id_number) is None
        assert core.payer_profile_by_identity(name=person.name, id_type=id_type, id_number=id_number) is None
        assert core.registration_name_matches(name=person.name, id_type=id_type, id_number=id_number) is None

    # -- declarations: conflicts and voids ------------------------------------------------------

    def test_a_declaration_is_pending_and_takes_its_periods(self, core, builder):
        person = builder.person()
        [d] = self._declare(core, builder, person, [1, 2])
        assert d.state == "declared" and d.receipt_no is None
        assert d.amount == builder.item().monthly * 2
        assert [p.declaration_no for p in core.declarations_pending(registration_no=person.registration_no)] == [d.declaration_no]
        year = builder.contribution_year
        assert self._taken(core, builder, person) == {f"{year}01": "declared", f"{year}02": "declared"}

    def test_a_declared_period_cannot_be_declared_again(self, core, builder):
        person = builder.person()
        [first] = self._declare(core, builder, person, [3])
        with pytest.raises(CoreConflict):
            self._declare(core, builder, person, [2, 3])  # overlaps in 03: none of it is recorded
        assert [p.declaration_no for p in core.declarations_pending(registration_no=person.registration_no)] == [first.declaration_no]
        assert f"{builder.contribution_year}02" not in self._taken(core, builder, person)

    def test_a_paid_period_cannot_be_declared_again(self, core, builder):
        person = builder.person()
        declarations = self._declare(core, builder, person, [4])
        self._pay(core, builder, person, declarations)
        assert self._taken(core, builder, person) == {f"{builder.contribution_year}04": "paid"}
        with pytest.raises(CoreConflict):
            self._declare(core, builder, person, [4])
        assert core.declarations_pending(registration_no=person.registration_no) == []

    def test_a_voided_declaration_frees_its_periods(self, core, builder):
        person = builder.person()
        [d] = self._declare(core, builder, person, [5])
        self._void(core, builder, person, d)
        [voided] = core.declarations_get(registration_no=person.registration_no, declaration_nos=[d.declaration_no])
        assert voided.state == "voided"
        assert core.declarations_pending(registration_no=person.registration_no) == []
        assert self._taken(core, builder, person) == {}
        [again] = self._declare(core, builder, person, [5])
        assert again.declaration_no != d.declaration_no and again.state == "declared"

    def test_a_voided_declaration_cannot_be_paid(self, core, builder):
        person = builder.person()
        declarations = self._declare(core, builder, person, [6])
        self._void(core, builder, person, declarations[0])
        with pytest.raises(CoreConflict):
            self._pay(core, builder, person, declarations)
        assert core.tax_receipts_list(registration_no=person.registration_no) == []

    # -- one tax receipt per channel transaction ------------------------------------------------

    def test_the_same_transaction_twice_gives_one_receipt(self, core, builder):
        person = builder.person()
        declarations = self._declare(core, builder, person, [7, 8])
        first = self._pay(core, builder, person, declarations)
        again = self._pay(core, builder, person, declarations)
        assert again.receipt_no == first.receipt_no and again.verify_code == first.verify_code
        assert [r.receipt_no for r in core.tax_receipts_list(registration_no=person.registration_no)] == [first.receipt_no]
        assert first.amount == declarations[0].amount and first.bank_serial_no == "4200000000000001"
        [paid] = core.declarations_get(registration_no=person.registration_no, declaration_nos=[declarations[0].declaration_no])
        assert paid.state == "paid" and paid.receipt_no == first.receipt_no
        assert core.tax_receipt_get(receipt_no=first.receipt_no).receipt_no == first.receipt_no
        assert core.tax_receipt_by_verify_code(verify_code=first.verify_code).receipt_no == first.receipt_no

    def test_another_transaction_for_paid_declarations_is_a_conflict(self, core, builder):
        person = builder.person()
        declarations = self._declare(core, builder, person, [9])
        first = self._pay(core, builder, person, declarations)
        with pytest.raises(CoreConflict):
            self._pay(core, builder, person, declarations, txn="4200000000000002")
        assert [r.receipt_no for r in core.tax_receipts_list(registration_no=person.registration_no)] == [first.receipt_no]

    def test_an_amount_other_than_the_declared_is_a_conflict(self, core, builder):
        person = builder.person()
        declarations = self._declare(core, builder, person, [10])
        with pytest.raises(CoreConflict):
            self._pay(core, builder, person, declarations, amount=declarations[0].amount + Decimal("0.01"))
        assert core.tax_receipts_list(registration_no=person.registration_no) == []
        assert [d.state for d in core.declarations_pending(registration_no=person.registration_no)] == ["declared"]

    # -- treasury states with expected times ----------------------------------------------------

    def _check_times(self, info: TaxReceiptInfo) -> None:
        """Each state reached has its time, each state not reached its expected time, in order."""
        reached = TREASURY_ORDER[info.state]
        assert (info.remitted_at is not None) == (reached >= 1)
        assert (info.in_treasury_at is not None) == (reached >= 2)
        assert (info.remit_expected_at is None) == (reached >= 1)
        assert (info.in_treasury_expected_at is None) == (reached >= 2)
        times = [info.paid_at, info.remitted_at or info.remit_expected_at, info.in_treasury_at or info.in_treasury_expected_at]
        assert times == sorted(times)

    def test_a_new_receipt_states_when_each_next_state_is_expected(self, core, builder):
        person = builder.person()
        receipt = self._pay(core, builder, person, self._declare(core, builder, person, [11]))
        assert receipt.state == "paid"
        assert receipt.remit_expected_at is not None and receipt.remit_expected_at > receipt.paid_at
        assert receipt.in_treasury_expected_at is not None and receipt.in_treasury_expected_at > receipt.remit_expected_at
        self._check_times(receipt)

    def test_treasury_states_never_go_backwards(self, core, builder):
        person = builder.person()
        receipt = self._pay(core, builder, person, self._declare(core, builder, person, [12]))
        remit_at, treasury_at = receipt.remit_expected_at, receipt.in_treasury_expected_at
        second = dt.timedelta(seconds=1)
        moments = [receipt.paid_at, remit_at - second, remit_at, treasury_at - second, treasury_at, treasury_at + dt.timedelta(days=30)]
        seen = []
        for when in moments:
            info = core.tax_receipt_get(receipt_no=receipt.receipt_no, now=when)
            self._check_times(info)
            public = core.tax_receipt_by_verify_code(verify_code=receipt.verify_code, now=when)
            assert (public.state, public.remitted_at, public.in_treasury_at) == (info.state, info.remitted_at, info.in_treasury_at)
            seen.append(TREASURY_ORDER[info.state])
            if seen[-1] >= 1:
                assert info.remitted_at == remit_at or not builder.treasury_follows_now()
            builder.let_treasury_run(when)
            after = core.tax_receipt_get(receipt_no=receipt.receipt_no, now=when)
            assert (after.state, after.remitted_at, after.in_treasury_at) == (info.state, info.remitted_at, info.in_treasury_at)
        assert seen == sorted(seen)
        if builder.treasury_follows_now():
            assert seen == [0, 0, 1, 1, 2, 2]
            final = core.tax_receipt_get(receipt_no=receipt.receipt_no, now=receipt.paid_at)  # an earlier clock: no going back
            assert final.state == "in_treasury" and final.in_treasury_at == treasury_at

    # -- one receipt per channel transaction, under concurrent notifications ----------------------

    THREADS = 6

    def _concurrently(self, work, threads: int | None = None) -> tuple[list, list[BaseException]]:
        """Run ``work(n)`` in ``threads`` (THREADS) threads released together; (results, errors)."""
        count = threads or self.THREADS
        barrier = threading.Barrier(count)
        results, errors = [], []

        def worker(n: int) -> None:
            try:
                barrier.wait(timeout=30)
                results.append(work(n))
            except BaseException as exc:  # reported to the main thread
                errors.append(exc)
            finally:
                connection.close()

        running = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
        for thread in running:
            thread.start()
        for thread in running:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in running)
        return results, errors

    @pytest.mark.postgres_only
    @pytest.mark.django_db(transaction=True)
    def test_concurrent_notifications_of_one_transaction_give_one_receipt(self, core, builder):
        if (reason := builder.concurrency_skip_reason()) is not None:
            pytest.skip(reason)
        person = builder.person()
        declarations = self._declare(core, builder, person, [1])
        results, errors = self._concurrently(lambda n: self._pay(core, builder, person, declarations).receipt_no)
        assert errors == []
        assert len(results) == self.THREADS and len(set(results)) == 1
        assert [r.receipt_no for r in core.tax_receipts_list(registration_no=person.registration_no)] == results[:1]

    @pytest.mark.postgres_only
    @pytest.mark.django_db(transaction=True)
    def test_concurrent_payments_of_one_declaration_by_different_transactions_credit_one(self, core, builder):
        if (reason := builder.concurrency_skip_reason()) is not None:
            pytest.skip(reason)
        person = builder.person()
        declarations = self._declare(core, builder, person, [2])
        results, errors = self._concurrently(lambda n: self._pay(core, builder, person, declarations, txn=f"42000000000001{n:02d}"))
        assert len(results) == 1 and len(errors) == self.THREADS - 1
        assert all(isinstance(e, CoreConflict) for e in errors), errors
        assert [r.receipt_no for r in core.tax_receipts_list(registration_no=person.registration_no)] == [results[0].receipt_no]
