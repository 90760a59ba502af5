"""Demo people (synthetic, valid ID numbers) for a first run and the browser tests.

Every demo account's password is DEMO_PASSWORD; SMS codes appear in the SMS
simulator's outbox (/sim/sms/ or ``manage.py outbox``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from shebao.common.idgen import make_resident_id

DEMO_PASSWORD = "Demo@2026"

# name, person type, city, id (division, birth, seq), mobile, tax office code or None, special category,
# insurance codes, has_account, has_core_record
DEMO_PEOPLE = [
    ("张伟", "flexible", "450100", ("450103", dt.date(1985, 6, 1), 123), "13800000001", "14501030000", "无", ["10210-FLEX", "10212-FLEX", "10212-SERIOUS"], True, True),
    ("李秀兰", "resident", "450300", ("450305", dt.date(1962, 3, 15), 246), "13800000002", "14503050000", "无", ["10210-RES", "10212-RES"], True, True),
    ("黄志强", "flexible", "450400", ("450403", dt.date(1966, 1, 20), 135), "13800000003", None, "达到法定退休年龄人员", ["10210-FLEX"], True, True),
    ("韦玉梅", "resident", "451000", ("451002", dt.date(1990, 11, 8), 482), "13800000004", None, "无", ["10212-RES"], True, True),
    ("陈静", "flexible", "450100", ("450102", dt.date(1995, 2, 28), 202), "13800000005", None, "无", [], True, False),
    ("王芳", "resident", "450100", ("450105", dt.date(1978, 9, 9), 62), "", "14501020000", "无", ["10210-RES", "10212-RES"], False, True),
    ("陆小龙", "flexible", "450200", ("450202", dt.date(1992, 4, 4), 111), "", None, "无", ["10210-FLEX", "10212-FLEX"], False, True),
]


# Assessed amounts pushed by social security for the demo (社保核定):
# name -> [(insurance type code, contribution year, months, base, rate)]
ASSESSED = {
    "黄志强": [("10210-FLEX", 2026, range(1, 7), Decimal("4371.00"), Decimal("0.2000"))],
}


def demo_id(person) -> str:
    division, birth, seq = person[3]
    return make_resident_id(division_code=division, birth=birth, seq=seq)
