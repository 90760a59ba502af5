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
from shebao.core.models import Agency, Declaration, DeclarationLine, DeclarationMode, Enrolment, Payer, TaxOffice
from shebao.reference.models import City, IdType, InsuranceType


class Command(BaseCommand):
    help = "载入广西地市、经办机构、税务机关、险种和演示用户（可重复执行）"

    def add_arguments(self, parser):
        parser.add_argument("--no-people", action="store_true", help="只载入参考数据")

    @transaction.atomic
    def handle(self, *args, **opts):
        call_command("seed_reference", stdout=self.stdout)
        self._agencies_and_tax_offices()
        call_command("load_demo_rules", stdout=self.stdout)
        if not opts["no_people"]:
            created = sum(self._person(p) for p in demo_data.DEMO_PEOPLE)
            self.stdout.write(f"演示用户：新增 {created} 人，登录密码 {demo_data.DEMO_PASSWORD}")
            self._assessed_declarations()
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
