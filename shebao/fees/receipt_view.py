"""What a payment receipt (缴费回单, REQUIREMENTS §2.2) shows: one plain value
object shared by the feedback page, the PDF and the verification page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class ReceiptLine:
    insurance_type: str  # 险种名称, e.g. 企业职工基本养老保险
    period_from: str  # 费款所属期起, "2026-01"
    period_to: str  # 费款所属期止, "2026-03"
    base_amount: Decimal | None  # 缴费基数 (None for fixed-amount resident items)
    amount: Decimal  # 金额（元）


@dataclass(frozen=True)
class TimelineStep:
    label: str  # 已缴费 / 已上解未入库 / 已入库
    done_at: dt.datetime | None
    expected_at: dt.datetime | None  # when not done yet: when we expect it


@dataclass(frozen=True)
class ReceiptView:
    receipt_no: str  # 电子缴款凭证号 / 税票号码
    payer_name: str  # full name (the payer's own receipt)
    id_number_masked: str  # 4501**********1239
    agency: str  # 社保经办机构
    person_no: str  # 人员编号
    tax_office: str  # 服务机构（主管税务机关）
    lines: tuple[ReceiptLine, ...]
    total_amount: Decimal
    paid_at: dt.datetime
    channel: str  # 缴费渠道, e.g. 微信支付
    bank_serial_no: str  # 银行流水号 / channel transaction id
    state: str  # 当前状态 label
    queried_at: dt.datetime  # 查询时间
    timeline: tuple[TimelineStep, ...]
    verify_url: str  # public verification page (QR code target)
    verify_code: str  # short code printed beside the QR
