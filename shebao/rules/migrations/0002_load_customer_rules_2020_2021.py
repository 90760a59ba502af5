"""Load the customer's 2020–2021 flexible-employment pension rules (REQUIREMENTS
§2.1; shebao/rules/data/guangxi-flexible-pension-rules-2020-2021.csv, a copy of
/work/shared/data) as shipped data: 30 rows, plus a second version of Nanning
2021 valid from 2021-08-01 when the 2021 base is published.

Derived values (the CSV gives only the minimum base and its share of the
average wage; every derivation is written into the row's source_note):
- average wage = minimum base ÷ share, rounded to the fen; maximum base =
  300 % of it; grades = 60/70/80/100/150/200/300 % of it, kept within
  [min, max];
- rate 0.2000 (the national flexible-employment pension rate);
- year 2020 collected 2020-01-01 … 2021-01-31, year 2021 2021-02-01 …
  2022-01-31 (Nanning's note: in January 2021 only year 2020);
- a "self" row with groups (Nanning 2021: January-2021 retirees pay an
  assessed special payment) becomes "mixed"; "everyone" becomes "assessed"
  with no groups.

Runs on a fresh database before seed_demo: the cities and the insurance type
are created with get_or_create from shebao/reference/reference_data.py (plain
data), so seed_demo's update_or_create later finds them.
"""

import csv
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.db import migrations

CSV_PATH = Path(__file__).resolve().parent.parent / "data" / "guangxi-flexible-pension-rules-2020-2021.csv"
POLICY_REF = "广西税务局提供的2020—2021年灵活就业人员基本养老保险缴费规则"
APPROVED_BY = "广西税务局（客户提供）"
INSURANCE_TYPE = "10210-FLEX"
RATE = Decimal("0.2000")
FEN = Decimal("0.01")
SHARES = (Decimal("0.60"), Decimal("0.70"), Decimal("0.80"), Decimal("1.00"), Decimal("1.50"), Decimal("2.00"), Decimal("3.00"))
GROUPS = {
    "retiring in January 2021": "2021年1月退休人员",
    "people reaching retirement age": "达到法定退休年龄人员",
    "land-lost farmers": "失地农民",
}
VALID_FROM = {2020: dt.date(2020, 1, 1), 2021: dt.date(2021, 1, 1)}
COLLECTION = {2020: (dt.date(2020, 1, 1), dt.date(2021, 1, 31)), 2021: (dt.date(2021, 2, 1), dt.date(2022, 1, 31))}
NANNING, NANNING_PUBLISHED = "450100", dt.date(2021, 8, 1)


def _yuan(value):
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def _mode_and_groups(row):
    text = row["assessed_groups"].strip()
    if text == "everyone":
        return "assessed", []
    groups = [GROUPS[part.strip()] for part in text.split(";") if part.strip()]
    mode = row["declaration_mode"]
    return ("mixed" if mode == "self" and groups else mode), groups


def _values(row):
    """The rule values of one CSV row, with the derivations in source_note."""
    year, min_base, share = (
        int(row["contribution_year"]),
        Decimal(row["min_base_yuan"]),
        Decimal(row["min_base_share_of_average_wage"]),
    )
    average = _yuan(min_base / share)
    max_base = _yuan(average * 3)
    grades = sorted({str(min(max(_yuan(average * s), _yuan(min_base)), max_base)) for s in SHARES}, key=Decimal)
    mode, groups = _mode_and_groups(row)
    restricted = row["pay_only_up_to_current_month_until_base_published"] == "true"
    opens, closes = COLLECTION[year]
    notes = [
        f"客户提供的2020—2021年规则表（{row['city']}{year}年度）原注：{row['source_note']}",
        f"推算：平均工资≈最低基数{min_base}÷{share}={average}元；最高缴费基数=平均工资×300%={max_base}元；"
        "档次为平均工资的60%、70%、80%、100%、150%、200%、300%（限于上下限之间）；费率20%。",
        f"征收期：{opens:%Y-%m-%d}至{closes:%Y-%m-%d}（南宁市注：2021年1月只征收2020年度，2月起征收2021年度）。",
    ]
    if year == 2020:
        notes.append("2020年度基数已公布，公布日期客户未提供，按2020-01-01记。")
    if mode == "mixed" and row["declaration_mode"] == "self":
        notes.append("申报方式记为“自主申报（所列人群由社保核定）”：2021年1月退休人员按社保核定的特殊缴费缴纳。")
    return {
        "contribution_year": year,
        "valid_from": VALID_FROM[year],
        "calculation": "base_rate",
        "declaration_mode": mode,
        "assessed_groups": groups,
        "min_base": _yuan(min_base),
        "max_base": max_base,
        "grades": grades,
        "rate": RATE,
        "collection_opens_on": opens,
        "collection_closes_on": closes,
        "base_published_on": dt.date(2020, 1, 1) if year == 2020 else None,
        "base_expected_on": NANNING_PUBLISHED if restricted else None,
        "pay_only_up_to_current_month_until_published": restricted,
        "policy_ref": POLICY_REF,
        "source_note": "\n".join(notes),
        "approved_by": APPROVED_BY,
    }


def _reference(apps):
    from shebao.reference import reference_data

    City = apps.get_model("core", "City")
    InsuranceType = apps.get_model("core", "InsuranceType")
    names = dict([reference_data.REGION, *reference_data.CITIES])
    code, name, ptype, item_code, item, sub_code, sub, rate = next(
        t for t in reference_data.INSURANCE_TYPES if t[0] == INSURANCE_TYPE
    )
    itype, _ = InsuranceType.objects.get_or_create(
        code=code,
        defaults={"name": name, "person_type": ptype, "collection_item_code": item_code, "collection_item": item,
                  "collection_subitem_code": sub_code, "collection_subitem": sub, "default_rate": rate},
    )  # fmt: skip

    def city(division_code, csv_name):
        defaults = {"name": names.get(division_code, csv_name), "is_region_level": division_code == reference_data.REGION[0]}
        return City.objects.get_or_create(division_code=division_code, defaults=defaults)[0]

    return city, itype


def load(apps, schema_editor):
    from shebao.common import clock

    Rule = apps.get_model("rules", "ContributionRule")
    city, itype = _reference(apps)
    now = clock.now()
    with CSV_PATH.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            values = _values(row)
            rule = Rule.objects.create(
                city=city(row["division_code"], row["city"]), insurance_type=itype, created_at=now, **values
            )
            if row["division_code"] == NANNING and values["pay_only_up_to_current_month_until_published"]:
                _nanning_published(Rule, rule, values, now)


def _nanning_published(Rule, first, values, now):
    """REQUIREMENTS §2.1: the restriction lifts when the 2021 base is published
    (expected August): a second version from 2021-08-01, closing the first."""
    first.valid_to = NANNING_PUBLISHED
    first.save(update_fields=["valid_to"])
    note = (
        "2021年度缴费基数于2021-08-01公布（客户注：预计8月公布），自此不再限制只能缴纳至当月。"
        f"公布后的基数客户未提供，沿用{values['min_base']}元至{values['max_base']}元，待核实后由工作人员新增版本。\n"
    )
    published = {
        **values,
        "valid_from": NANNING_PUBLISHED,
        "base_published_on": NANNING_PUBLISHED,
        "source_note": note + values["source_note"],
    }
    Rule.objects.create(city=first.city, insurance_type=first.insurance_type, supersedes=first, created_at=now, **published)


def unload(apps, schema_editor):
    Rule = apps.get_model("rules", "ContributionRule")
    shipped = Rule.objects.filter(policy_ref=POLICY_REF)
    shipped.filter(supersedes__isnull=False).delete()
    shipped.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("rules", "0001_create_contribution_rule"),
    ]

    operations = [migrations.RunPython(load, unload)]
