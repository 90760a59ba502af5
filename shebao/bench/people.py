"""The benchmark's synthetic payers: flexible-employment workers in 南宁 (450100) enrolled in
enterprise-employee pension (10210-FLEX) and basic medical (10212-FLEX), like the demo's
张伟. ID numbers are synthetic and checksum-valid (``make_resident_id``), births one day
apart from 1985-01-01 with odd sequence numbers (men, far from retirement age), mobiles
177xxxxxxxx; none can collide with a demo person."""

from __future__ import annotations

import datetime as dt

from shebao.common.idgen import make_resident_id
from shebao.core.demo_data import DEMO_PASSWORD

CITY = "450100"  # 南宁市
DISTRICT = "450107"  # 西乡塘区 (only the ID number's address code)
INSURANCE_TYPES = ("10210-FLEX", "10212-FLEX")
PASSWORD = DEMO_PASSWORD
_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN = "伟芳娜敏静丽强磊军洋"


def person(i: int) -> dict[str, str]:
    """Benchmark payer number ``i`` (0-based)."""
    return {
        "name": _SURNAMES[i % 10] + _GIVEN[(i // 10) % 10] + _GIVEN[(i // 100) % 10],
        "id_number": make_resident_id(division_code=DISTRICT, birth=dt.date(1985, 1, 1) + dt.timedelta(days=i), seq=(2 * i + 1) % 1000),
        "mobile": f"177{i:08d}",
    }


def demo_tuple(i: int) -> tuple:
    """Person ``i`` in the layout of ``shebao.core.demo_data.DEMO_PEOPLE`` (what ``seed_demo`` loads)."""
    p = person(i)
    birth = dt.date(1985, 1, 1) + dt.timedelta(days=i)
    return (p["name"], "flexible", CITY, (DISTRICT, birth, (2 * i + 1) % 1000), p["mobile"], None, "无",
            list(INSURANCE_TYPES), True, True)
