"""The embedded core passes the core contract (tests/contract/core_contract.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from shebao.adapters.core.embedded import EmbeddedCore
from shebao.common import crypto
from shebao.common.identity import identity_index
from shebao.common.idgen import make_resident_id
from shebao.core.models import (
    Agency,
    Declaration,
    DeclarationLine,
    DeclarationMode,
    Enrolment,
    NoRefundPerson,
    Payer,
    RefundSheet,
    TaxOffice,
    VirtualAccount,
    VirtualAccountKind,
    VirtualDeclaration,
    VirtualDeclarationLine,
)
from shebao.reference.models import IdType, InsuranceType, PersonType
from tests.contract.core_contract import CoreContract, MonthlyItem, SeededPerson
from tests.contract.refund_contract import RefundContract

_seq = itertools.count(1)


class EmbeddedBuilder:
    """Seeds payers straight into the embedded core's tables (reference data from ``seed_demo``)."""

    contribution_year = 2026

    def __init__(self) -> None:
        call_command("seed_demo", "--no-people", stdout=open("/dev/null", "w"))

    def item(self) -> MonthlyItem:
        return MonthlyItem("10210-FLEX", Decimal("4371.00"), Decimal("0.2000"))

    def person(self) -> SeededPerson:
        n = next(_seq)
        name, id_number = f"合约测试{n}", make_resident_id(division_code="450103", birth=dt.date(1980, 1, 1), seq=500 + n % 400)
        payer = Payer.objects.create(
            public_id=crypto.random_token(12), registration_no=f"109450103{n:011d}", person_no=f"4501{n:012d}", name=name,
            id_type=IdType.RESIDENT_ID, id_number=id_number, id_index=identity_index(id_type=IdType.RESIDENT_ID, id_number=id_number),
            person_type=PersonType.FLEXIBLE, city=Agency.objects.get(code="SB450100").city, agency=Agency.objects.get(code="SB450100"),
            tax_office=TaxOffice.objects.get(code="14501000000"), registered_on=dt.date(2026, 1, 1),
        )
        itype = InsuranceType.objects.get(code=self.item().insurance_type_code)
        Enrolment.objects.create(payer=payer, insurance_type=itype, rate=self.item().rate, started_on=payer.registered_on)
        return SeededPerson(name, IdType.RESIDENT_ID, id_number, payer.registration_no)

    def unknown_identity(self) -> tuple[str, str]:
        return IdType.RESIDENT_ID, make_resident_id(division_code="450105", birth=dt.date(1970, 7, 7), seq=999)

    def now(self) -> dt.datetime:
        return dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)

    def let_treasury_run(self, now: dt.datetime) -> None:
        EmbeddedCore().receipts_advance(now=now)

    def treasury_follows_now(self) -> bool:
        return True

    def put_on_no_refund_list(self, person: SeededPerson) -> None:
        payer = Payer.objects.get(registration_no=person.registration_no)
        NoRefundPerson(public_id=crypto.random_token(12), city=payer.city, id_type=payer.id_type, id_index=payer.id_index,
                       id_number=payer.id_number, name=payer.name, reason="合约测试", added_at=self.now()).save()

    def pay_special(self, person: SeededPerson, month: int) -> None:
        payer = Payer.objects.get(registration_no=person.registration_no)
        item, period = self.item(), f"{self.contribution_year}{month:02d}"
        declaration = Declaration.objects.create(
            public_id=crypto.random_token(12), declaration_no=f"1014501{next(_seq):017d}", payer=payer,
            insurance_type=InsuranceType.objects.get(code=item.insurance_type_code), contribution_year=self.contribution_year,
            period_from=period, period_to=period, base_amount=item.base_amount, rate=item.rate, amount=item.monthly,
            mode=DeclarationMode.ASSESSED, declared_at=self.now())
        DeclarationLine.objects.create(declaration=declaration, payer=payer, insurance_type=declaration.insurance_type, period=period,
                                       amount=item.monthly)
        EmbeddedCore().payment_record(registration_no=person.registration_no, declaration_nos=[declaration.declaration_no],
                                      channel="wechatpay", transaction_id=f"42000{next(_seq):011d}", amount=item.monthly,
                                      paid_at=self.now())

    def let_refunds_be_decided(self, now: dt.datetime, *, failure: str = "") -> None:
        from django.test import override_settings

        with override_settings(CORE_EMBEDDED={"REFUND_FAILURE": failure}):
            EmbeddedCore().refunds_decide(now=now)

    def issue_refund_sheet(self, person: SeededPerson, month: int, amount: Decimal) -> str:
        payer = Payer.objects.get(registration_no=person.registration_no)
        item, period = self.item(), f"{self.contribution_year}{month:02d}"
        sheet = RefundSheet.objects.create(
            sheet_no=f"HD{next(_seq):012d}", payer=payer, agency=payer.agency,
            insurance_type=InsuranceType.objects.get(code=item.insurance_type_code), period=period, paid_amount=item.monthly,
            amount=amount, reason="多缴退费", assessed_on=dt.date(2026, 3, 1), handler="经办员甲")
        return sheet.sheet_no

    def pay_by_virtual_account(self, person: SeededPerson, month: int, *, identifier: str = "", name: str = "") -> str:
        payer = Payer.objects.get(registration_no=person.registration_no)
        va = (VirtualAccount.objects.get(identifier=identifier) if identifier else VirtualAccount.objects.create(
            identifier=f"XN450103{next(_seq):012d}", name=name or f"合约测试{next(_seq)}村民委员会", kind=VirtualAccountKind.VILLAGE,
            city=payer.city))
        item = self.item()
        declaration = VirtualDeclaration.objects.create(
            declaration_no=f"XS{next(_seq):020d}", virtual_account=va, insurance_type=InsuranceType.objects.get(code=item.insurance_type_code),
            contribution_year=self.contribution_year, declared_at=self.now(), receipt_no=f"345{next(_seq):017d}", paid_at=self.now())
        VirtualDeclarationLine.objects.create(declaration=declaration, payer=payer, insurance_type=declaration.insurance_type,
                                              period=f"{self.contribution_year}{month:02d}", amount=item.monthly)
        return va.identifier

    def supplement(self, person: SeededPerson, month: int, base_delta: Decimal) -> None:
        payer = Payer.objects.get(registration_no=person.registration_no)
        item, period = self.item(), f"{self.contribution_year}{month:02d}"
        amount = (base_delta * item.rate).quantize(Decimal("0.01"))
        declaration = Declaration.objects.create(
            public_id=crypto.random_token(12), declaration_no=f"1024501{next(_seq):017d}", payer=payer,
            insurance_type=InsuranceType.objects.get(code=item.insurance_type_code), contribution_year=self.contribution_year,
            period_from=period, period_to=period, base_amount=base_delta, rate=item.rate, amount=amount,
            mode=DeclarationMode.SELF, declared_at=self.now())
        DeclarationLine.objects.create(declaration=declaration, payer=payer, insurance_type=declaration.insurance_type, period=period,
                                       amount=amount, supplementary=True)
        EmbeddedCore().payment_record(registration_no=person.registration_no, declaration_nos=[declaration.declaration_no],
                                      channel="wechatpay", transaction_id=f"42001{next(_seq):011d}", amount=amount, paid_at=self.now())

    def concurrency_skip_reason(self) -> str | None:
        if connection.vendor != "postgresql":
            return f"needs PostgreSQL row locks (select_for_update); the database here is {connection.vendor}"
        return None


class TestEmbeddedCore(CoreContract, RefundContract):
    @pytest.fixture
    def core_impl(self, db):
        return EmbeddedCore(), EmbeddedBuilder()

    def test_reading_a_receipt_saves_nothing(self, core, builder, django_assert_num_queries):
        """The treasury steps due are shown by a read and saved only by the treasury job
        (``receipts_advance``, run by the periodic ``advance_treasury_states``)."""
        from shebao.core.models import TaxReceipt

        person = builder.person()
        receipt = self._pay(core, builder, person, self._declare(core, builder, person, [12]))
        late = receipt.in_treasury_expected_at + dt.timedelta(days=1)
        with django_assert_num_queries(2):  # the receipt with its payer, its declarations: no write
            shown = core.tax_receipt_get(receipt_no=receipt.receipt_no, now=late)
        assert shown.state == "in_treasury"
        assert TaxReceipt.objects.get(receipt_no=receipt.receipt_no).state == "paid"
        assert core.receipts_advance(now=late) == 1
        assert TaxReceipt.objects.get(receipt_no=receipt.receipt_no).state == "in_treasury"
