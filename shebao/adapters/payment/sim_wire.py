"""WeChat Pay's side of the wire, for the simulator: checking the merchant's
``Authorization``, signing answers and notifications with the platform key,
encrypting notification resources, the Transaction object and the trade bill.

Written again here on purpose (not imported from the client's ``signing.py``), so
a mistake in the client cannot agree with itself (interfaces.md §4.1, §4.6).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SHANGHAI = ZoneInfo("Asia/Shanghai")
AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
BILL_COLUMNS = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
BILL_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
FEE_RATE = Decimal("0.006")


@dataclass(frozen=True)
class SimKeys:
    mchid: str
    appid: str
    merchant_public_key: RSAPublicKey
    merchant_serial_no: str | None  # checked when known
    platform_private_key: RSAPrivateKey
    platform_public_key_id: str
    apiv3_key: bytes
    merchant_name: str

    @classmethod
    def load(cls, config: Mapping[str, str | None], *, merchant_name: str) -> SimKeys:
        """From PEM strings; raises ``ValueError`` naming any missing value."""
        missing = [name for name, value in config.items() if not value and name != "merchant_serial_no"]
        if missing:
            raise ValueError(f"WeChat Pay simulator is missing {', '.join(missing)} (settings.PAYMENT['WECHATPAY'])")
        public_key = serialization.load_pem_public_key(str(config["merchant_public_key_pem"]).encode())
        private_key = serialization.load_pem_private_key(str(config["platform_private_key_pem"]).encode(), password=None)
        if not isinstance(public_key, RSAPublicKey) or not isinstance(private_key, RSAPrivateKey):
            raise ValueError("WeChat Pay simulator keys must be RSA")
        return cls(
            mchid=str(config["mchid"]), appid=str(config["appid"]), merchant_public_key=public_key,
            merchant_serial_no=config.get("merchant_serial_no"), platform_private_key=private_key,
            platform_public_key_id=str(config["platform_public_key_id"]), apiv3_key=str(config["apiv3_key"]).encode(),
            merchant_name=merchant_name,
        )


def check_authorization(keys: SimKeys, *, method: str, uri: str, body: bytes, header: str, now: float) -> str | None:
    """Why the request's ``Authorization`` is refused (→ 401 SIGN_ERROR), or None when it is good:
    schema, mchid, serial, timestamp within 5 minutes, and the SHA256withRSA signature over
    ``METHOD\\nURI\\nTIMESTAMP\\nNONCE\\nBODY\\n`` with the merchant public key."""
    schema, _, rest = header.partition(" ")
    fields = dict(_AUTH_FIELD.findall(rest))
    if schema != AUTH_SCHEMA or not all(fields.get(k) for k in ("mchid", "nonce_str", "signature", "timestamp", "serial_no")):
        return "Authorization 格式错误"
    if fields["mchid"] != keys.mchid:
        return "商户号与签名不匹配"
    if keys.merchant_serial_no is not None and fields["serial_no"] != keys.merchant_serial_no:
        return "商户证书序列号有误"
    if not fields["timestamp"].isdigit() or abs(now - int(fields["timestamp"])) >= 300:
        return "请求时间戳与当前时间相差过大"
    message = f"{method}\n{uri}\n{fields['timestamp']}\n{fields['nonce_str']}\n".encode() + body + b"\n"
    try:
        keys.merchant_public_key.verify(base64.b64decode(fields["signature"]), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return "签名错误"
    return None


def signed_headers(keys: SimKeys, body: bytes, now: float, *, corrupt: bool = False) -> list[tuple[str, str]]:
    """The Wechatpay-* headers WeChat Pay puts on every answer and notification.
    ``corrupt`` signs another message (fault mode ``bad_*_signature``)."""
    timestamp, nonce = str(int(now)), secrets.token_hex(16)
    message = f"{timestamp}\n{nonce}\n".encode() + body + (b"tampered\n" if corrupt else b"\n")
    signature = keys.platform_private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return [
        ("Wechatpay-Timestamp", timestamp),
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Signature", base64.b64encode(signature).decode()),
        ("Wechatpay-Serial", keys.platform_public_key_id),
        ("Wechatpay-Signature-Type", AUTH_SCHEMA),
        ("Request-ID", secrets.token_hex(16).upper()),
    ]


def encrypted_resource(keys: SimKeys, plaintext: bytes, *, kind: str = "transaction") -> dict[str, str]:
    """A notification ``resource``: AEAD_AES_256_GCM with the APIv3 key, a 12-character nonce;
    ``kind`` is ``transaction`` or ``refund`` (its ``original_type`` and associated data)."""
    nonce = secrets.token_urlsafe(9)[:12]
    ciphertext = AESGCM(keys.apiv3_key).encrypt(nonce.encode(), plaintext, kind.encode())
    return {
        "original_type": kind,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "associated_data": kind,
        "nonce": nonce,
    }


def rfc3339(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, SHANGHAI).isoformat(timespec="seconds")


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def transaction_json(keys: SimKeys, row: sqlite3.Row) -> dict[str, Any]:
    """The §4.7 Transaction object of an order row (``payer`` empty until paid, as WeChat does)."""
    request = _request(row)
    total = request["amount"]["total"]
    paid = row["state"] in ("SUCCESS", "REFUND")
    data: dict[str, Any] = {
        "appid": keys.appid,
        "mchid": keys.mchid,
        "out_trade_no": row["out_trade_no"],
        "trade_type": "JSAPI",
        "trade_state": row["state"],
        "trade_state_desc": row["state_desc"],
        "payer": {"openid": request["payer"]["openid"]} if paid else {},
        "amount": {"total": total, "currency": "CNY", "payer_currency": "CNY", **({"payer_total": total} if paid else {})},
        "promotion_detail": [],
    }
    if request.get("attach"):
        data["attach"] = request["attach"]
    if paid:
        data.update(transaction_id=row["transaction_id"], bank_type=row["bank_type"], success_time=rfc3339(row["success_time"]))
    return data


def trade_bill(keys: SimKeys, rows: list[sqlite3.Row], refunds: tuple[tuple[sqlite3.Row, sqlite3.Row], ...] = ()) -> bytes:
    """The day's ``bill_type=ALL`` trade bill: header, backtick-prefixed trade lines (payments,
    then refunds that succeeded that day, each ``(refund, its order)``), summary."""
    lines, total_fen, total_fee, refunded_fen = [BILL_COLUMNS], 0, Decimal("0"), 0
    for row in rows:
        request = _request(row)
        fen = request["amount"]["total"]
        fee = (Decimal(fen) * FEE_RATE / 100).quantize(Decimal("0.00001"))
        total_fen, total_fee = total_fen + fen, total_fee + fee
        fields = [
            _moment(row["success_time"]), keys.appid, keys.mchid, "0", "", row["transaction_id"], row["out_trade_no"],
            request["payer"]["openid"], "JSAPI", "SUCCESS", row["bank_type"], "CNY", yuan(fen), "0.00", "0", "0", "0.00", "0.00",
            "", "", request["description"], request.get("attach", ""), f"{fee}", "0.60%", yuan(fen), "0.00", "",
        ]
        lines.append(",".join("`" + field for field in fields))
    for refund, order in refunds:
        request = _request(order)
        fee = -(Decimal(refund["refund_fen"]) * FEE_RATE / 100).quantize(Decimal("0.00001"))  # the fee is given back
        total_fee, refunded_fen = total_fee + fee, refunded_fen + refund["refund_fen"]
        fields = [
            _moment(refund["success_time"]), keys.appid, keys.mchid, "0", "", order["transaction_id"], order["out_trade_no"],
            request["payer"]["openid"], "JSAPI", "REFUND", order["bank_type"], "CNY", "0.00", "0.00", refund["refund_id"],
            refund["out_refund_no"], yuan(refund["refund_fen"]), "0.00", "ORIGINAL", "SUCCESS", request["description"],
            request.get("attach", ""), f"{fee}", "0.60%", yuan(refund["total_fen"]), yuan(refund["refund_fen"]), "",
        ]
        lines.append(",".join("`" + field for field in fields))
    lines.append(BILL_SUMMARY)
    summary = [str(len(rows) + len(refunds)), yuan(total_fen), yuan(refunded_fen), "0.00", f"{total_fee:.5f}", yuan(total_fen),
               yuan(refunded_fen)]
    lines.append(",".join("`" + field for field in summary))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _moment(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _request(row: sqlite3.Row) -> dict[str, Any]:
    return json.loads(row["request"])
