"""Load the reference data: the cities and the insurance types (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from shebao.reference import reference_data
from shebao.reference.models import City, InsuranceType


class Command(BaseCommand):
    help = "载入广西地市（行政区划代码）和险种（可重复执行）"

    @transaction.atomic
    def handle(self, *args, **opts):
        for code, name in [reference_data.REGION, *reference_data.CITIES]:
            City.objects.update_or_create(
                division_code=code, defaults={"name": name, "is_region_level": code == reference_data.REGION[0]}
            )
        for code, name, ptype, item_code, item, sub_code, sub, rate in reference_data.INSURANCE_TYPES:
            InsuranceType.objects.update_or_create(
                code=code,
                defaults={"name": name, "person_type": ptype, "collection_item_code": item_code, "collection_item": item,
                          "collection_subitem_code": sub_code, "collection_subitem": sub, "default_rate": rate},
            )  # fmt: skip
        self.stdout.write(f"参考数据：{City.objects.count()} 个地市，{InsuranceType.objects.count()} 个险种")
