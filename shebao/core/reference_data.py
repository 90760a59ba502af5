"""Reference data of the embedded core for Guangxi: cities with their division
codes (GB/T 2260), agencies, tax offices, insurance types. Loaded by
``manage.py seed_demo`` (idempotent)."""

from __future__ import annotations

from decimal import Decimal

REGION = ("450000", "广西壮族自治区本级")
CITIES = [
    ("450100", "南宁市"), ("450200", "柳州市"), ("450300", "桂林市"), ("450400", "梧州市"),
    ("450500", "北海市"), ("450600", "防城港市"), ("450700", "钦州市"), ("450800", "贵港市"),
    ("450900", "玉林市"), ("451000", "百色市"), ("451100", "贺州市"), ("451200", "河池市"),
    ("451300", "来宾市"), ("451400", "崇左市"),
]
# (code, name, city division code): district offices beside the city bureaus
DISTRICT_TAX_OFFICES = [
    ("14501030000", "国家税务总局南宁市青秀区税务局", "450100"),
    ("14501020000", "国家税务总局南宁市兴宁区税务局", "450100"),
    ("14503050000", "国家税务总局桂林市七星区税务局", "450300"),
]
INSURANCE_TYPES = [
    # code, name, person type, item code, item, subitem code, subitem, default rate
    ("10210-FLEX", "企业职工基本养老保险", "flexible", "10210", "企业职工基本养老保险费", "102101700", "灵活就业人员缴纳", Decimal("0.2000")),
    ("10212-FLEX", "职工基本医疗保险", "flexible", "10212", "职工基本医疗保险费", "102121700", "灵活就业人员缴纳", Decimal("0.0800")),
    ("10212-SERIOUS", "大病医疗（大额医疗费用补助）", "flexible", "10212", "职工基本医疗保险费", "102121800", "大额医疗费用补助", Decimal("0.0000")),
    ("10210-RES", "城乡居民基本养老保险", "resident", "10210", "城乡居民基本养老保险费", "102103000", "城乡居民基本养老保险", Decimal("0.0000")),
    ("10212-RES", "城乡居民基本医疗保险", "resident", "10212", "城乡居民基本医疗保险费", "102123000", "城乡居民基本医疗保险", Decimal("0.0000")),
]


def agency_for(division_code: str, name: str) -> tuple[str, str]:
    return f"SB{division_code}", f"{name}社会保险事业局" if division_code != REGION[0] else "广西壮族自治区社会保险事业局"


def tax_office_for(division_code: str, name: str) -> tuple[str, str]:
    if division_code == REGION[0]:
        return "14500000000", "国家税务总局广西壮族自治区税务局"
    return f"1{division_code}0000", f"国家税务总局{name}税务局"
