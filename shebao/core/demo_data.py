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
    # the refund cases (PAID_HISTORY, REFUND_SHEETS, VIRTUAL_LINES below)
    ("覃丽华", "flexible", "450100", ("450103", dt.date(1983, 7, 12), 318), "13800000008", None, "无", ["10210-FLEX"], True, True),
    ("莫振华", "flexible", "450100", ("450107", dt.date(1971, 10, 3), 155), "13800000009", None, "无", ["10210-FLEX"], True, True),
    ("农秀英", "resident", "451000", ("451002", dt.date(1958, 5, 21), 264), "13800000010", None, "无", ["10210-RES", "10212-RES"], True, True),
    ("罗桂兰", "resident", "451000", ("451002", dt.date(1960, 2, 2), 428), "", None, "无", ["10212-RES"], False, True),
]


# Assessed amounts pushed by social security for the demo (社保核定):
# name -> [(insurance type code, contribution year, months, base, rate)]
ASSESSED = {
    "黄志强": [("10210-FLEX", 2026, range(1, 7), Decimal("4371.00"), Decimal("0.2000"))],
}


def demo_id(person) -> str:
    division, birth, seq = person[3]
    return make_resident_id(division_code=division, birth=birth, seq=seq)


# Refund cases (issue "Refunds"), each walkable in the browser:
# paid history of earlier periods: name -> [(insurance code, period, base, rate, supplementary base or None, assessed?)]
PAID_HISTORY = {
    # 2025-11 declared with base 5000 and a supplementary +1000: one item, summed base 6000
    "覃丽华": [("10210-FLEX", "202511", Decimal("5000.00"), Decimal("0.2000"), Decimal("1000.00"), False),
             ("10210-FLEX", "202512", Decimal("5000.00"), Decimal("0.2000"), None, False)],
    # paid through the special payment declaration form (社保核定): special refund by receipt
    "莫振华": [("10210-FLEX", "202512", Decimal("4371.00"), Decimal("0.2000"), None, True)],
}

# refund assessment sheets (核定退费单): sheet no, name, insurance code, period, amount, reason, assessed on, handler
REFUND_SHEETS = [
    ("HD45010020251201", "覃丽华", "10210-FLEX", "202512", Decimal("300.00"), "缴费基数调整多缴退费", dt.date(2026, 1, 15), "覃明"),
]

# virtual accounts (虚拟户): identifier, name, kind, city; and what they declared and paid for residents
VIRTUAL_ACCOUNTS = [
    ("XN451002000000000001", "百色市右江区龙景街道东增社区居民委员会", "community", "451000"),
    ("XN450102000000000002", "南宁市兴宁区三塘镇那况村村民委员会", "village", "450100"),
    ("XN450103000000000003", "南宁市青秀区第一中学", "school", "450100"),
]
# identifier -> [(resident name, insurance code, period, amount)]
VIRTUAL_LINES = {
    "XN451002000000000001": [("农秀英", "10212-RES", "202601", Decimal("400.00")),
                             ("罗桂兰", "10212-RES", "202601", Decimal("400.00"))],
    "XN450102000000000002": [("罗桂兰", "10212-RES", "202501", Decimal("380.00"))],
}

# on the no-refund special-person list of their city
NO_REFUND = {"李秀兰": "享受特殊政策人员（演示）"}
