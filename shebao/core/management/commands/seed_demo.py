"""Load Guangxi reference data (``seed_reference``), the embedded core's agencies and
tax offices, the demo rules and the demo people (idempotent)."""

from __future__ import annotations

from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from shebao.accounts.models import Account
from shebao.accounts.otp import mobile_index
from shebao.common import clock, crypto
from shebao.common.identity import identity_index
from shebao.core import demo_data, reference_data
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
    VirtualDeclaration,
    VirtualDeclarationLine,
)
from shebao.reference.models import City, IdType, InsuranceType


class Command(BaseCommand):
    help = "载入广西地市、经办机构、税务机关、险种和演示用户（可重复执行）"

    def add_arguments(self, parser):
        parser.add_argument("--no-people", action="store_true", help="只载入参考数据")
        parser.add_argument("--no-history", action="store_true",
                            help="不载入退费演示用的缴费记录、核定退费单、虚拟户和不予退费名单，也不载入演示通知公告（测试用）")
        parser.add_argument("--no-notices", action="store_true", help="不载入演示通知公告（测试用：登录后不弹出通知）")

    @transaction.atomic
    def handle(self, *args, **opts):
        call_command("seed_reference", stdout=self.stdout)
        self._agencies_and_tax_offices()
        call_command("load_demo_rules", stdout=self.stdout)
        if not opts["no_people"]:
            created = sum(self._person(p) for p in demo_data.DEMO_PEOPLE)
            self.stdout.write(f"演示用户：新增 {created} 人，登录密码 {demo_data.DEMO_PASSWORD}")
            self._assessed_declarations()
            if not opts["no_history"]:
                self._refund_cases()
            if not opts["no_history"] and not opts["no_notices"]:  # the full demo only: tests count transitions and audit rows
                from shebao.notices.demo import demo_notices_seed

                self.stdout.write(f"演示通知公告：新增 {demo_notices_seed(now=clock.now())} 条")
        self.stdout.write(self.style.SUCCESS("参考数据已载入"))

    def _agencies_and_tax_offices(self) -> None:
        for code, name in [reference_data.REGION, *reference_data.CITIES]:
            city = City.objects.get(division_code=code)
            a_code, a_name = reference_data.agency_for(code, name)
            Agency.objects.update_or_create(code=a_code, defaults={"name": a_name, "city": city})
            t_code, t_name = reference_data.tax_office_for(code, name)
            TaxOffice.objects.update_or_create(code=t_code, defaults={"name": t_name, "city": city})
        for code, name, division in reference_data.DISTRICT_TAX_OFFICES:
            TaxOffice.objects.update_or_create(code=code, defaults={"name": name, "city": City.objects.get(division_code=division)})

    def _person(self, p) -> int:
        name, ptype, division, _, mobile, tax_code, special, insurance_codes, has_account, has_core = p
        id_number = demo_data.demo_id(p)
        id_index = identity_index(id_type=IdType.RESIDENT_ID, id_number=id_number)
        now = clock.now()
        created = 0
        if has_core and not Payer.objects.filter(id_index=id_index).exists():
            city = City.objects.get(division_code=division)
            seq = Payer.objects.count() + 1
            payer = Payer.objects.create(
                public_id=crypto.random_token(12), registration_no=f"101{division}{seq:011d}", person_no=f"{division[:4]}{seq:012d}",
                name=name, id_type=IdType.RESIDENT_ID, id_number=id_number, id_index=id_index, person_type=ptype,
                special_category=special, city=city, agency=Agency.objects.get(code=f"SB{division}"),
                tax_office=TaxOffice.objects.get(code=tax_code or f"1{division}0000"), registered_on=now.date().replace(month=1, day=1),
            )
            for code in insurance_codes:
                itype = InsuranceType.objects.get(code=code)
                Enrolment.objects.create(payer=payer, insurance_type=itype, rate=itype.default_rate, started_on=payer.registered_on)
            created = 1
        if has_account and not Account.objects.filter(id_index=id_index).exists():
            public_id = crypto.random_token(12)
            account = Account(
                public_id=public_id, username=f"u_{public_id}", person_type=ptype, name=name, id_type=IdType.RESIDENT_ID,
                id_number=id_number, id_index=id_index, mobile=mobile, mobile_index=mobile_index(mobile),
                real_name_verified=True, created_at=now,
            )
            account.set_password(demo_data.DEMO_PASSWORD)
            account.save()
            created = 1
        return created

    def _assessed_declarations(self) -> None:
        """Assessed amounts pushed by social security (社保核定, special channel) for the demo."""
        for p in demo_data.DEMO_PEOPLE:
            for code, year, months, base, rate in demo_data.ASSESSED.get(p[0], []):
                payer = Payer.objects.get(id_index=identity_index(id_type=IdType.RESIDENT_ID, id_number=demo_data.demo_id(p)))
                itype = InsuranceType.objects.get(code=code)
                if Declaration.objects.filter(payer=payer, insurance_type=itype, contribution_year=year, mode=DeclarationMode.ASSESSED).exists():
                    continue
                per_month = (base * rate).quantize(Decimal("0.01"))
                periods = [f"{year}{m:02d}" for m in months]
                now = clock.now()
                d = Declaration.objects.create(
                    public_id=crypto.random_token(12), declaration_no=f"20{year}{payer.pk:06d}{len(periods):02d}{code[-4:]}"[:24],
                    payer=payer, insurance_type=itype, contribution_year=year, period_from=periods[0], period_to=periods[-1],
                    base_amount=base, rate=rate, amount=per_month * len(periods), mode=DeclarationMode.ASSESSED,
                    rule_refs=["社保经办机构核定（演示）"], declared_at=now,
                )
                DeclarationLine.objects.bulk_create(
                    DeclarationLine(declaration=d, payer=payer, insurance_type=itype, period=period, amount=per_month) for period in periods
                )

    def _payer(self, name: str) -> Payer:
        p = next(p for p in demo_data.DEMO_PEOPLE if p[0] == name)
        return Payer.objects.get(id_index=identity_index(id_type=IdType.RESIDENT_ID, id_number=demo_data.demo_id(p)))

    def _refund_cases(self) -> None:
        """Paid history, a supplementary declaration, refund sheets, virtual accounts and the
        no-refund list: each refund path of the demo (see demo_data)."""
        from shebao.adapters.core.embedded import EmbeddedCore

        now = clock.now()
        for name, rows in demo_data.PAID_HISTORY.items():
            payer = self._payer(name)
            for code, period, base, rate, extra_base, assessed in rows:
                if Declaration.objects.filter(payer=payer, insurance_type__code=code, period_from=period).exists():
                    continue
                mode = DeclarationMode.ASSESSED if assessed else DeclarationMode.SELF
                numbers = [self._paid_declaration(payer, code, period, base, rate, mode, supplementary=False, now=now)]
                if extra_base is not None:
                    numbers.append(self._paid_declaration(payer, code, period, extra_base, rate, mode, supplementary=True, now=now))
                for n, number in enumerate(numbers):
                    amount = Declaration.objects.get(declaration_no=number).amount
                    EmbeddedCore().payment_record(registration_no=payer.registration_no, declaration_nos=[number], channel="wechatpay",
                                                  transaction_id=f"4200009{payer.pk:04d}{period}{n}", amount=amount, paid_at=now)
        for sheet_no, name, code, period, amount, reason, assessed_on, handler in demo_data.REFUND_SHEETS:
            payer = self._payer(name)
            paid = sum(DeclarationLine.objects.filter(payer=payer, insurance_type__code=code, period=period, live=True)
                       .values_list("amount", flat=True), Decimal("0.00"))
            RefundSheet.objects.get_or_create(sheet_no=sheet_no, defaults={
                "payer": payer, "agency": payer.agency, "insurance_type": InsuranceType.objects.get(code=code), "period": period,
                "paid_amount": paid, "amount": amount, "reason": reason, "assessed_on": assessed_on, "handler": handler})
        for identifier, va_name, kind, division in demo_data.VIRTUAL_ACCOUNTS:
            VirtualAccount.objects.get_or_create(identifier=identifier, defaults={
                "name": va_name, "kind": kind, "city": City.objects.get(division_code=division)})
        for identifier, lines in demo_data.VIRTUAL_LINES.items():
            va = VirtualAccount.objects.get(identifier=identifier)
            for n, (name, code, period, amount) in enumerate(lines):
                payer, itype = self._payer(name), InsuranceType.objects.get(code=code)
                if VirtualDeclarationLine.objects.filter(payer=payer, insurance_type=itype, period=period).exists():
                    continue
                declaration, _ = VirtualDeclaration.objects.get_or_create(
                    declaration_no=f"XS{identifier[2:]}{code[:5]}"[:24], defaults={
                        "virtual_account": va, "insurance_type": itype, "contribution_year": int(period[:4]), "declared_at": now,
                        "receipt_no": f"3451{identifier[-6:]}{period}{n:02d}"[:24], "paid_at": now})
                VirtualDeclarationLine.objects.create(declaration=declaration, payer=payer, insurance_type=itype, period=period,
                                                      amount=amount)
        for name, reason in demo_data.NO_REFUND.items():
            payer = self._payer(name)
            if not NoRefundPerson.objects.filter(city=payer.city, id_index=payer.id_index).exists():
                NoRefundPerson(public_id=crypto.random_token(12), city=payer.city, id_type=payer.id_type, id_index=payer.id_index,
                               id_number=payer.id_number, name=payer.name, reason=reason, added_at=now).save()

    def _paid_declaration(self, payer, code, period, base, rate, mode, *, supplementary: bool, now) -> str:
        itype = InsuranceType.objects.get(code=code)
        amount = (base * rate).quantize(Decimal("0.01"))
        d = Declaration.objects.create(
            public_id=crypto.random_token(12), declaration_no=f"{'21' if supplementary else '20'}{period}{payer.pk:06d}{code[-4:]}"[:24],
            payer=payer, insurance_type=itype, contribution_year=int(period[:4]), period_from=period, period_to=period,
            base_amount=base, rate=rate, amount=amount, mode=mode,
            rule_refs=["补充申报（演示）" if supplementary else "演示缴费记录"], declared_at=now,
        )
        DeclarationLine.objects.create(declaration=d, payer=payer, insurance_type=itype, period=period, amount=amount,
                                       supplementary=supplementary)
        return d.declaration_no
