"""The simulator's WeChat Pay v3 domestic refunds (interfaces.md §4.9, §4.10): 申请退款 and
查询单笔退款 with ``out_refund_no`` idempotency and the state machine
PROCESSING → SUCCESS | ABNORMAL | CLOSED.

A new refund answers PROCESSING; its first query after creation takes the outcome the control
switch ``refund`` held when it was made (default SUCCESS, 原路退回), which is how tests drive the
failure paths, and the signed, encrypted ``REFUND.<status>`` notification then goes to the
refund's ``notify_url`` (a simplification: WeChat Pay settles on its own time). The refunded total of an order never exceeds what was paid (CLOSED and ABNORMAL
refunds give their amount back)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
from typing import Any

from shebao.adapters.payment.sim_api import ApiError, json_object
from shebao.adapters.payment.sim_wire import rfc3339

_OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
LIVE = ("PROCESSING", "SUCCESS")


def _param(message: str) -> ApiError:
    return ApiError(400, "PARAM_ERROR", message)


def check_refund_request(body: bytes) -> dict[str, Any]:
    request = json_object(body)
    if not isinstance(request.get("out_refund_no"), str) or not _OUT_REFUND_NO.fullmatch(request["out_refund_no"]):
        raise _param("out_refund_no 应为 1-64 位数字、字母、_-|*@")
    if not isinstance(request.get("out_trade_no"), str) and not isinstance(request.get("transaction_id"), str):
        raise _param("transaction_id 和 out_trade_no 必须二选一")
    amount = request.get("amount")
    if (not isinstance(amount, dict) or type(amount.get("refund")) is not int or type(amount.get("total")) is not int
            or amount["refund"] <= 0 or amount["refund"] > amount["total"]):
        raise _param("amount.refund 应为不超过 amount.total 的正整数（单位：分）")
    if amount.get("currency", "CNY") != "CNY":
        raise _param("amount.currency 仅支持 CNY")
    return request


def _fingerprint(out_trade_no: str, amount: dict[str, Any]) -> str:
    return hashlib.sha256(f"{out_trade_no}|{amount['refund']}|{amount['total']}".encode()).hexdigest()


def create_refund(db: sqlite3.Connection, request: dict[str, Any], *, order: sqlite3.Row, now: float, outcome: str) -> sqlite3.Row:
    """申请退款 inside the store's write transaction; an identical repeat returns the same refund."""
    amount = request["amount"]
    total = json.loads(order["request"])["amount"]["total"]
    fingerprint = _fingerprint(order["out_trade_no"], amount)
    row = db.execute("SELECT * FROM refunds WHERE out_refund_no = ?", (request["out_refund_no"],)).fetchone()
    if row is not None:
        if row["fingerprint"] != fingerprint:
            raise ApiError(400, "INVALID_REQUEST", "商户退款单号已存在，且退款参数与原请求不一致")
        return row
    if order["state"] not in ("SUCCESS", "REFUND"):
        raise ApiError(400, "INVALID_REQUEST", "订单未支付，不能退款")
    if amount["total"] != total:
        raise _param("amount.total 与订单金额不一致")
    refunded = db.execute("SELECT COALESCE(SUM(refund_fen), 0) FROM refunds WHERE out_trade_no = ? AND status IN (?, ?)",
                          (order["out_trade_no"], *LIVE)).fetchone()[0]
    if refunded + amount["refund"] > total:
        raise ApiError(403, "NOT_ENOUGH", "订单可退金额不足")
    refund_id = f"5030{int(now)}{secrets.randbelow(10**10):010d}"
    db.execute("INSERT INTO refunds (out_refund_no, refund_id, out_trade_no, fingerprint, refund_fen, total_fen, status, outcome,"
               " notify_url, created_at) VALUES (?, ?, ?, ?, ?, ?, 'PROCESSING', ?, ?, ?)",
               (request["out_refund_no"], refund_id, order["out_trade_no"], fingerprint, amount["refund"], total, outcome,
                str(request.get("notify_url") or ""), now))
    return db.execute("SELECT * FROM refunds WHERE out_refund_no = ?", (request["out_refund_no"],)).fetchone()


def settle_refund(db: sqlite3.Connection, out_refund_no: str, *, now: float) -> tuple[sqlite3.Row, bool]:
    """查询单笔退款: a PROCESSING refund takes its outcome now (the order becomes REFUND on success);
    the flag says it did just now (then the simulator notifies)."""
    row = db.execute("SELECT * FROM refunds WHERE out_refund_no = ?", (out_refund_no,)).fetchone()
    if row is None:
        raise ApiError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    settled = row["status"] == "PROCESSING" and row["outcome"] != "PROCESSING"
    if settled:
        db.execute("UPDATE refunds SET status = outcome, success_time = CASE WHEN outcome = 'SUCCESS' THEN ? END"
                   " WHERE out_refund_no = ?", (now, out_refund_no))
        if row["outcome"] == "SUCCESS":
            db.execute("UPDATE orders SET state = 'REFUND', state_desc = '转入退款' WHERE out_trade_no = ?", (row["out_trade_no"],))
        row = db.execute("SELECT * FROM refunds WHERE out_refund_no = ?", (out_refund_no,)).fetchone()
    return row, settled


def refund_notification(row: sqlite3.Row, order: sqlite3.Row, *, mchid: str) -> dict[str, Any]:
    """The decrypted resource of a refund notification (§4.9)."""
    return {
        "mchid": mchid, "out_trade_no": row["out_trade_no"], "transaction_id": order["transaction_id"],
        "out_refund_no": row["out_refund_no"], "refund_id": row["refund_id"], "refund_status": row["status"],
        "success_time": rfc3339(row["success_time"]) if row["success_time"] else None, "user_received_account": "支付用户零钱",
        "amount": {"total": row["total_fen"], "refund": row["refund_fen"], "payer_total": row["total_fen"], "payer_refund": row["refund_fen"]},
    }


def refund_json(row: sqlite3.Row, order: sqlite3.Row) -> dict[str, Any]:
    """The §4.9 Refund object."""
    return {
        "refund_id": row["refund_id"], "out_refund_no": row["out_refund_no"], "transaction_id": order["transaction_id"],
        "out_trade_no": row["out_trade_no"], "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
        "success_time": rfc3339(row["success_time"]) if row["success_time"] else None, "create_time": rfc3339(row["created_at"]),
        "status": row["status"], "funds_account": "AVAILABLE",
        "amount": {"total": row["total_fen"], "refund": row["refund_fen"], "payer_total": row["total_fen"],
                   "payer_refund": row["refund_fen"], "settlement_refund": row["refund_fen"], "settlement_total": row["total_fen"],
                   "discount_refund": 0, "currency": "CNY", "from": []},
        "promotion_detail": [],
    }
