"""CoreSystem port in our vocabulary (REQUIREMENTS §3: registration serial number
by the three elements, then insured information)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class InsuredItem:
    insurance_type_code: str
    insurance_type: str
    person_type: str  # "flexible" | "resident"
    collection_item: str  # 征收项目
    collection_subitem: str  # 征收品目
    state: str  # label, e.g. 参保缴费
    rate: Decimal
    started_on: dt.date


@dataclass(frozen=True)
class InsuredInfo:
    registration_no: str  # 登记序号
    person_no: str  # 人员编号
    person_type: str  # label
    special_category: str
    agency: str  # 社保经办机构
    tax_office: str  # 主管税务机关
    city: str
    items: tuple[InsuredItem, ...]


class CoreSystem(Protocol):
    def registration_find(self, *, name: str, id_type: str, id_number: str) -> str | None:
        """登记序号 of the person with these three elements, or None when not insured."""
        ...

    def insured_info(self, *, registration_no: str) -> InsuredInfo:
        ...
