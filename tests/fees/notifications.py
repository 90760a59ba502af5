"""Build WeChat Pay v3 notifications exactly as the channel would (signed with
the simulator's platform key, resource encrypted with the APIv3 key)."""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings

from shebao.adapters.payment.sim_wire import SimKeys, encrypted_resource, rfc3339, signed_headers


def _keys() -> SimKeys:
    c = settings.PAYMENT["WECHATPAY"]
    return SimKeys.load(
        {"mchid": c["MCHID"], "appid": c["APPID"], "merchant_public_key_pem": c["MERCHANT_PUBLIC_KEY"],
         "merchant_serial_no": c["MERCHANT_SERIAL_NO"], "platform_private_key_pem": c["PLATFORM_PRIVATE_KEY"],
         "platform_public_key_id": c["PLATFORM_PUBLIC_KEY_ID"], "apiv3_key": c["APIV3_KEY"]},
        merchant_name="测试",
    )


def notification(*, out_trade_no: str, transaction_id: str, amount_fen: int, now: dt.datetime,
                 corrupt_signature: bool = False, overrides: dict | None = None, currency: str = "CNY",
                 plaintext: bytes | None = None, raw_body: bytes | None = None) -> tuple[dict[str, str], bytes]:
    """``overrides`` replaces Transaction fields, ``plaintext`` the whole decrypted resource,
    ``raw_body`` the whole (still validly signed) envelope."""
    keys = _keys()
    txn = {
        "appid": keys.appid, "mchid": keys.mchid, "out_trade_no": out_trade_no, "transaction_id": transaction_id,
        "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
        "success_time": rfc3339(now.timestamp()), "payer": {"openid": "oTestOpenid"},
        "amount": {"total": amount_fen, "payer_total": amount_fen, "currency": currency, "payer_currency": currency},
        **(overrides or {}),
    }
    envelope = {
        "id": f"EV-{transaction_id}", "create_time": rfc3339(now.timestamp()), "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": encrypted_resource(keys, plaintext if plaintext is not None else json.dumps(txn, ensure_ascii=False).encode()),
    }
    body = raw_body if raw_body is not None else json.dumps(envelope, ensure_ascii=False).encode()
    headers = {k.lower(): v for k, v in signed_headers(keys, body, now.timestamp(), corrupt=corrupt_signature)}
    return headers, body
