"""Receipt views built by hand, as the fees service would build them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from shebao.fees.receipt_view import ReceiptLine, ReceiptView, TimelineStep

UTC = dt.UTC
VERIFY_URL = "https://12366.gxtax.example/receipts/verify/7Q3K-9XWD-2M4P"
# 60 characters: the longest agency name we have seen is shorter, so this must wrap, not overflow.
LONG_AGENCY = (
    "广西壮族自治区南宁市青秀区人力资源和社会保障局社会保险事业管理中心灵活就业人员参保缴费登记服务窗口（青秀区第一服务大厅）"
)


def sample_view(**changes: Any) -> ReceiptView:
    """The worked example: pension 1748.40 + medical 699.36 = 2447.76, queried at
    2026-11-27 14:05:09 Asia/Shanghai while the money is 已上解未入库."""
    view = ReceiptView(
        receipt_no="345016261100000123",
        payer_name="张伟",
        id_number_masked="4501**********1239",
        agency="南宁市社会保险事业管理中心",
        person_no="4501000012345678",
        tax_office="国家税务总局南宁市青秀区税务局",
        lines=(
            ReceiptLine("企业职工基本养老保险", "2026-01", "2026-02", Decimal("4371.00"), Decimal("1748.40")),
            ReceiptLine("职工基本医疗保险", "2026-01", "2026-02", None, Decimal("699.36")),
        ),
        total_amount=Decimal("2447.76"),
        paid_at=dt.datetime(2026, 11, 27, 6, 1, 2, tzinfo=UTC),
        channel="微信支付",
        bank_serial_no="4200002612202611270123456789",
        state="已上解未入库",
        queried_at=dt.datetime(2026, 11, 27, 6, 5, 9, tzinfo=UTC),
        timeline=(
            TimelineStep("已缴费", dt.datetime(2026, 11, 27, 6, 1, 2, tzinfo=UTC), None),
            TimelineStep("已上解未入库", dt.datetime(2026, 11, 27, 6, 3, 0, tzinfo=UTC), None),
            TimelineStep("已入库", None, dt.datetime(2026, 11, 28, 2, 0, 0, tzinfo=UTC)),
        ),
        verify_url=VERIFY_URL,
        verify_code="7Q3K9XWD",
    )
    return dataclasses.replace(view, **changes)
