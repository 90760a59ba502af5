"""Trade bill (交易账单) for T+1 reconciliation: the simulator's file through the client,
the hash check, and the parser on WeChat's backtick format."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from shebao.adapters.payment.port import PaymentError, StatementLine
from shebao.adapters.payment.tradebill import check_hash, parse_trade_bill, yuan_to_fen

DAY = dt.date(2026, 11, 27)
HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,"
          "代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def test_statement_lists_the_days_payments(channel, pay, make_bill, browser, clock):
    pay(make_bill(out_trade_no="SB_DAY_PAID_01"))  # 10:00 local
    failed = channel.create(make_bill(out_trade_no="SB_DAY_FAILED_1"))
    browser.press(failed.cashier_url, "支付失败")
    clock.advance(hours=13, minutes=59, seconds=59)  # 23:59:59 local
    pay(make_bill(out_trade_no="SB_DAY_LATE_001", amount_fen=1))
    clock.advance(seconds=2)  # the next day
    pay(make_bill(out_trade_no="SB_NEXT_DAY_001"))
    clock.advance(hours=10)
    paid, late = channel.query("SB_DAY_PAID_01"), channel.query("SB_DAY_LATE_001")

    assert channel.statement(DAY) == [
        StatementLine(paid.transaction_id, "SB_DAY_PAID_01", 38000, "SUCCESS", dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)),
        StatementLine(late.transaction_id, "SB_DAY_LATE_001", 1, "SUCCESS", dt.datetime(2026, 11, 27, 15, 59, 59, tzinfo=dt.UTC)),
    ]


def test_no_trades_is_an_empty_statement(channel, clock):
    clock.advance(days=1)

    assert channel.statement(DAY) == []


def test_todays_bill_is_not_ready_yet(channel, pay, make_bill):
    pay(make_bill())

    error = pytest.raises(PaymentError, channel.statement, DAY).value

    assert (error.code, error.retryable) == ("STATEMENT_CREATING", True)


def test_hash_mismatch_is_refused(channel, pay, make_bill, clock, wxpay_sim):
    pay(make_bill())
    clock.advance(days=1)
    wxpay_sim.control(api="bad_bill_hash")

    error = pytest.raises(PaymentError, channel.statement, DAY).value

    assert (error.code, error.retryable) == ("BILL_HASH_MISMATCH", True)


def _line(*fields: str) -> str:
    return ",".join("`" + f for f in fields)


def _trade(time: str, txn: str, no: str, state: str, order: str, refund: str, refund_nos: tuple[str, str] = ("0", "0")) -> str:
    return _line(time, "wx_sim_12366", "1900000109", "0", "", txn, no, "oX", "JSAPI", state, "OTHERS", "CNY", order, "0.00",
                 *refund_nos, refund, "0.00", "", "", "城乡居民医保, 2027", "", "0.00000", "0.60%", order, refund, "")


def test_parser_reads_payments_and_refunds_by_column_name():
    content = "\r\n".join([
        HEADER,
        _trade("2026-11-27 10:00:00", "4200000001202611270000000001", "SB01", "SUCCESS", "380.00", "0.00"),
        _trade("2026-11-27 11:30:05", "4200000001202611270000000001", "SB01", "REFUND", "0.00", "100.50",
               ("50300000012026112700000000001", "RFSB01")),
        _trade("2026-11-27 12:00:00", "4200000002202611270000000002", "SB02", "CLOSED", "1.00", "0.00"),
        SUMMARY,
        _line("3", "380.00", "100.50", "0.00", "0.00000", "380.00", "100.50"),
    ]).encode("utf-8-sig")  # a BOM is tolerated

    assert parse_trade_bill(content) == [
        StatementLine("4200000001202611270000000001", "SB01", 38000, "SUCCESS", dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)),
        StatementLine("4200000001202611270000000001", "SB01", 10050, "REFUND", dt.datetime(2026, 11, 27, 3, 30, 5, tzinfo=dt.UTC),
                      out_refund_no="RFSB01"),
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        HEADER.replace("订单金额,申请", "金额,申请").encode() + b"\n" + SUMMARY.encode() + b"\n`0",
        (HEADER + "\n" + _trade("2026-11-27 10:00:00", "42", "SB01", "SUCCESS", "380.00", "0.00")).encode(),  # no summary
        (HEADER + "\n" + _trade("2026-11-27 10:00:00", "42", "SB01", "SUCCESS", "380.00", "0.00") + "\n" + SUMMARY + "\n`2").encode(),
        (HEADER + "\n" + _trade("2026-11-27 10:00:00", "42", "SB01", "SUCCESS", "380.001", "0.00") + "\n" + SUMMARY + "\n`1").encode(),
        (HEADER + "\n" + _trade("27/11/2026 10:00", "42", "SB01", "SUCCESS", "380.00", "0.00") + "\n" + SUMMARY + "\n`1").encode(),
        "交易时间".encode("gbk"),
    ])
def test_parser_refuses_malformed_files(content):
    assert pytest.raises(PaymentError, parse_trade_bill, content).value.code == "BILL_MALFORMED"


def test_amounts_are_converted_without_rounding():
    assert [yuan_to_fen(v) for v in ("0.01", "380.00", "380", "12345678.90")] == [1, 38000, 38000, 1234567890]
    for bad in ("0.001", "1e-3x", "NaN", "Infinity", ""):
        with pytest.raises(PaymentError):
            yuan_to_fen(bad)


def test_hash_check():
    check_hash(b"bill", hash_type="SHA1", hash_value=hashlib.sha1(b"bill").hexdigest().upper())
    assert pytest.raises(PaymentError, check_hash, b"bill!", hash_type="SHA1",
                         hash_value=hashlib.sha1(b"bill").hexdigest()).value.code == "BILL_HASH_MISMATCH"
    assert pytest.raises(PaymentError, check_hash, b"bill", hash_type="MD5", hash_value="x").value.code == "BILL_HASH_UNSUPPORTED"
