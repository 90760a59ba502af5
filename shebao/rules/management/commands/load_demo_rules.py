"""Load the demo contribution rules for the current year (idempotent).

Demo data, not real policy (policy_ref "演示数据（非真实政策）"): for every city
of shebao/reference/reference_data.py and the autonomous-region level, contribution
year 2026 for the five insurance types, and year 2027 for the two resident
types (residents pay next year's fees from the autumn). Needs the reference
data of ``seed_demo``. A rule that already has any version for its
(city, year, insurance type) is left alone, so staff edits survive a re-run.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from shebao.common import clock
from shebao.reference import reference_data
from shebao.reference.models import City, InsuranceType
from shebao.rules.models import Calculation, ContributionRule, DeclarationMode
from shebao.rules.money import quantize_yuan

POLICY_REF = "演示数据（非真实政策）"
APPROVED_BY = "演示数据"
AVERAGE_WAGE = Decimal("7285.00")
MIN_BASE = quantize_yuan(AVERAGE_WAGE * Decimal("0.60"))  # 4371.00
MAX_BASE = quantize_yuan(AVERAGE_WAGE * Decimal("3.00"))  # 21855.00
BASE_GRADES = [str(quantize_yuan(AVERAGE_WAGE * Decimal(s))) for s in ("0.60", "0.80", "1.00", "1.50", "2.00", "3.00")]
RESIDENT_PENSION_GRADES = [f"{g}.00" for g in (200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000, 3000, 4000, 5000)]
WUZHOU = "450400"
VALID_FROM = dt.date(2026, 1, 1)
FLEX_WINDOW = (dt.date(2026, 1, 1), dt.date(2027, 1, 31))
RESIDENT_WINDOWS = {2026: (dt.date(2026, 1, 1), dt.date(2026, 12, 31)), 2027: (dt.date(2026, 9, 1), dt.date(2027, 12, 31))}
PUBLISHED_ON = dt.date(2026, 7, 1)
NOTE = "演示数据：平均工资按7285.00元计，最低缴费基数60%（4371.00元），最高300%（21855.00元）。"


def _base_rate(rate: str, *, restricted: bool) -> dict[str, Any]:
    opens, closes = FLEX_WINDOW
    return {
        "calculation": Calculation.BASE_RATE, "min_base": MIN_BASE, "max_base": MAX_BASE, "grades": BASE_GRADES,
        "rate": Decimal(rate), "collection_opens_on": opens, "collection_closes_on": closes,
        "base_published_on": PUBLISHED_ON, "base_expected_on": PUBLISHED_ON,
        "pay_only_up_to_current_month_until_published": restricted,
    }  # fmt: skip


def _yearly(calculation: str, grades: list[str], window: tuple[dt.date, dt.date]) -> dict[str, Any]:
    return {
        "calculation": calculation, "grades": grades, "rate": Decimal("0.0000"),
        "collection_opens_on": window[0], "collection_closes_on": window[1],
    }  # fmt: skip


def demo_rules(division_code: str) -> list[tuple[str, int, dict[str, Any]]]:
    """(insurance type code, contribution year, values) of one city's demo rules."""
    pension = _base_rate("0.2000", restricted=True)
    if division_code == WUZHOU:
        pension |= {"declaration_mode": DeclarationMode.MIXED, "assessed_groups": ["达到法定退休年龄人员"]}
    rules = [
        ("10210-FLEX", 2026, pension),
        ("10212-FLEX", 2026, _base_rate("0.0800", restricted=False)),
        ("10212-SERIOUS", 2026, _yearly(Calculation.FIXED, ["180.00"], FLEX_WINDOW)),
    ]
    for year, window in RESIDENT_WINDOWS.items():
        rules.append(("10210-RES", year, _yearly(Calculation.FIXED_GRADE, RESIDENT_PENSION_GRADES, window)))
        rules.append(("10212-RES", year, _yearly(Calculation.FIXED, ["400.00" if year == 2026 else "420.00"], window)))
    return rules


class Command(BaseCommand):
    help = "载入本年度演示缴费规则（非真实政策，可重复执行；需先运行 seed_demo 载入参考数据）"

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        created = 0
        types = {t.code: t for t in InsuranceType.objects.all()}
        for code, _ in [reference_data.REGION, *reference_data.CITIES]:
            city = City.objects.filter(division_code=code).first()
            if city is None:
                raise CommandError(f"缺少地市 {code}，请先运行 seed_demo 载入参考数据")
            for type_code, year, values in demo_rules(code):
                if type_code not in types:
                    raise CommandError(f"缺少险种 {type_code}，请先运行 seed_demo 载入参考数据")
                exists = ContributionRule.objects.filter(
                    city=city, contribution_year=year, insurance_type=types[type_code]
                ).exists()
                if exists:
                    continue
                ContributionRule.objects.create(
                    city=city, contribution_year=year, insurance_type=types[type_code], valid_from=VALID_FROM,
                    policy_ref=POLICY_REF, source_note=NOTE, approved_by=APPROVED_BY, created_at=now,
                    **({"declaration_mode": DeclarationMode.SELF} | values),
                )  # fmt: skip
                created += 1
        self.stdout.write(self.style.SUCCESS(f"演示缴费规则已载入：新增 {created} 条"))
