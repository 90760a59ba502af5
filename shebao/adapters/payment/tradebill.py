"""WeChat Pay trade bill (交易账单, ``bill_type=ALL``) reading, for T+1 reconciliation.

File format (the same in API v2 and v3; checked against several SDKs' fixtures):
a header line of Chinese column names (交易时间,公众账号ID,商户号,…,费率备注); one line
per trade where every field is prefixed with a backtick (`` `2018-02-01 04:21:23,`wx…``);
then a summary header ``总交易单数,应结订单总金额,…`` and one summary line. Amounts are
yuan with two decimals, times are Asia/Shanghai wall-clock. The download is checked
against ``hash_value`` (``hash_type`` SHA1) from ``GET /v3/bill/tradebill``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from shebao.adapters.payment.port import PaymentError, StatementLine

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUMMARY_HEADER = "总交易单数"
COLUMNS = (
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
    "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额",
    "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
)
_NEEDED = ("交易时间", "微信订单号", "商户订单号", "交易状态", "订单金额", "退款金额")
_HASHES = {"SHA1": hashlib.sha1}


def _malformed(why: str) -> PaymentError:
    return PaymentError(f"wechatpay trade bill malformed: {why}", code="BILL_MALFORMED", retryable=False)


def check_hash(content: bytes, *, hash_type: str, hash_value: str) -> None:
    """The downloaded file must hash to ``hash_value`` (hex, any case) with ``hash_type`` (SHA1)."""
    algorithm = _HASHES.get(hash_type.upper())
    if algorithm is None:
        raise PaymentError(f"wechatpay trade bill: unsupported hash_type {hash_type!r}", code="BILL_HASH_UNSUPPORTED")
    if not hmac.compare_digest(algorithm(content).hexdigest(), hash_value.lower()):
        raise PaymentError("wechatpay trade bill: hash mismatch", code="BILL_HASH_MISMATCH", retryable=True)


def yuan_to_fen(text: str) -> int:
    """``"12.34"`` → 1234; more than two decimals or anything not a number is refused (no rounding)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _malformed(f"amount {text!r}") from None
    fen = value * 100
    if not value.is_finite() or fen != fen.to_integral_value():
        raise _malformed(f"amount {text!r}")
    return int(fen)


def _fields(line: str) -> list[str]:
    """A trade line: fields separated by ``,``` (a comma and a backtick), the first one backtick-prefixed."""
    return line[1:].split(",`") if line.startswith("`") else line.split(",")


def parse_trade_bill(content: bytes) -> list[StatementLine]:
    """Trade lines with ``交易状态`` SUCCESS (payments; amount = 订单金额) or REFUND
    (refunds; amount = 退款金额), in file order. The summary's 总交易单数 must equal the
    number of trade lines. Columns are found by name, so added columns do not break it."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _malformed("not UTF-8") from None
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not lines:
        raise _malformed("empty file")
    header = [name.strip().lstrip("`") for name in lines[0].split(",")]
    missing = [name for name in _NEEDED if name not in header]
    if missing:
        raise _malformed(f"missing columns {', '.join(missing)}")
    index = {name: header.index(name) for name in (*_NEEDED, "商户退款单号") if name in header}
    result: list[StatementLine] = []
    trade_lines = 0
    summary: list[str] | None = None
    for number, line in enumerate(lines[1:], start=2):
        if line.lstrip("`").startswith(SUMMARY_HEADER):
            summary = _fields(lines[number]) if number < len(lines) else None
            break
        trade_lines += 1
        fields = _fields(line)
        if len(fields) < len(header):
            raise _malformed(f"line {number} has {len(fields)} fields, expected {len(header)}")
        row = {name: fields[i].strip() for name, i in index.items()}
        if row["交易状态"] not in ("SUCCESS", "REFUND"):
            continue
        try:
            moment = dt.datetime.strptime(row["交易时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
        except ValueError:
            raise _malformed(f"line {number} time {row['交易时间']!r}") from None
        amount = row["订单金额"] if row["交易状态"] == "SUCCESS" else row["退款金额"]
        result.append(
            StatementLine(
                transaction_id=row["微信订单号"],
                out_trade_no=row["商户订单号"],
                amount_fen=yuan_to_fen(amount),
                state=row["交易状态"],
                success_time=moment.astimezone(dt.UTC),
                out_refund_no=row.get("商户退款单号", "") if row["交易状态"] == "REFUND" else "",
            )
        )
    if summary is None:
        raise _malformed("no summary")
    if not summary[0].strip().isdigit() or int(summary[0]) != trade_lines:
        raise _malformed(f"summary counts {summary[0]!r} trades, file has {trade_lines}")
    return result
