"""Reference data every domain reads: national codes, not the core's data. Cities
with their division codes (GB/T 2260), insurance types (险种 with 征收项目/征收品目),
document types (证件类型) and person types. A province with a real core needs them
all the same.

The two tables keep the names they had in the embedded core (``core_city``,
``core_insurancetype``): the models moved in the migration state only, the rows
stayed (migration ``reference.0001``)."""

from __future__ import annotations

from django.db import models


class PersonType(models.TextChoices):
    RESIDENT = "resident", "城乡居民"
    FLEXIBLE = "flexible", "灵活就业人员"


class IdType(models.TextChoices):
    """Documents a natural person can hold (GB/T 2261.x style codes in comments)."""

    RESIDENT_ID = "201", "居民身份证"
    HK_MO_RESIDENCE = "237", "港澳居民居住证"
    TW_RESIDENCE = "238", "台湾居民居住证"
    HK_MO_PERMIT = "233", "港澳居民来往内地通行证"
    TW_PERMIT = "210", "台湾居民来往大陆通行证"
    FOREIGN_PR = "208", "外国人永久居留身份证"
    PASSPORT = "227", "外国护照"


class City(models.Model):
    """A city of Guangxi (or the autonomous-region level) with its division code (GB/T 2260)."""

    division_code = models.CharField("行政区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=32)
    is_region_level = models.BooleanField("自治区本级", default=False)

    class Meta:
        db_table = "core_city"
        verbose_name = verbose_name_plural = "地市"
        ordering = ["division_code"]

    def __str__(self) -> str:
        return self.name


class InsuranceType(models.Model):
    """An insurance type (险种) with its collection item and sub-item (征收项目/征收品目)."""

    code = models.CharField("险种代码", max_length=16, unique=True)
    name = models.CharField("险种名称", max_length=32)
    person_type = models.CharField("适用人员", max_length=16, choices=PersonType.choices)
    collection_item_code = models.CharField("征收项目代码", max_length=16)
    collection_item = models.CharField("征收项目", max_length=32)
    collection_subitem_code = models.CharField("征收品目代码", max_length=16)
    collection_subitem = models.CharField("征收品目", max_length=32)
    default_rate = models.DecimalField("默认费率", max_digits=6, decimal_places=4)

    class Meta:
        db_table = "core_insurancetype"
        verbose_name = verbose_name_plural = "险种"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
