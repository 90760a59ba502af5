"""The reference data for Guangxi: the cities with their division codes (GB/T 2260)
and the insurance types. Loaded by ``manage.py seed_reference`` (idempotent; seed_demo
calls it) and read by the historical rules migration 0002."""

from __future__ import annotations

from decimal import Decimal

REGION = ("450000", "广西壮族自治区本级")
CITIES = [
    ("450100", "南宁市"),
    ("450200", "柳州市"),
    ("450300", "桂林市"),
    ("450400", "梧州市"),
    ("450500", "北海市"),
    ("450600", "防城港市"),
    ("450700", "钦州市"),
    ("450800", "贵港市"),
    ("450900", "玉林市"),
    ("451000", "百色市"),
    ("451100", "贺州市"),
    ("451200", "河池市"),
    ("451300", "来宾市"),
    ("451400", "崇左市"),
]
INSURANCE_TYPES = [
    # code, name, person type, item code, item, subitem code, subitem, default rate
    (
        "10210-FLEX",
        "企业职工基本养老保险",
        "flexible",
        "10210",
        "企业职工基本养老保险费",
        "102101700",
        "灵活就业人员缴纳",
        Decimal("0.2000"),
    ),
    (
        "10212-FLEX",
        "职工基本医疗保险",
        "flexible",
        "10212",
        "职工基本医疗保险费",
        "102121700",
        "灵活就业人员缴纳",
        Decimal("0.0800"),
    ),
    (
        "10212-SERIOUS",
        "大病医疗（大额医疗费用补助）",
        "flexible",
        "10212",
        "职工基本医疗保险费",
        "102121800",
        "大额医疗费用补助",
        Decimal("0.0000"),
    ),
    (
        "10210-RES",
        "城乡居民基本养老保险",
        "resident",
        "10210",
        "城乡居民基本养老保险费",
        "102103000",
        "城乡居民基本养老保险",
        Decimal("0.0000"),
    ),
    (
        "10212-RES",
        "城乡居民基本医疗保险",
        "resident",
        "10212",
        "城乡居民基本医疗保险费",
        "102123000",
        "城乡居民基本医疗保险",
        Decimal("0.0000"),
    ),
]
