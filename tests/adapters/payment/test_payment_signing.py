"""WeChat Pay API v3 cryptography (interfaces.md §4.1, §4.5, §4.6): known answers built
by hand in the test with ``cryptography`` directly, never with the code under test."""

from __future__ import annotations

import base64
import datetime as dt
import json

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shebao.adapters.payment.signing import (
    DECRYPT_ERRORS,
    SignatureInvalid,
    SigningTransport,
    authorization_header,
    decrypt_resource,
    load_private_key,
    load_public_key,
    normalize_headers,
    pay_sign,
    verify_signed,
)

TS = 1795744800  # 2026-11-27 10:00 Asia/Shanghai
NONCE = "593BEC0C930BF1AFEB40B4A08C8FB242"


def _sign(private_pem: str, message: bytes) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def _verify(public_pem: str, message: bytes, signature: str) -> None:
    key = serialization.load_pem_public_key(public_pem.encode())
    key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())


def test_authorization_header_known_answer(dev_keys):
    body = b'{"mchid":"1900000109","out_trade_no":"SB01"}'
    message = f"POST\n/v3/pay/transactions/jsapi\n{TS}\n{NONCE}\n{body.decode()}\n".encode()
    expected_signature = _sign(dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"], message)  # PKCS#1 v1.5 is deterministic

    header = authorization_header(
        mchid="1900000109", serial_no="5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        private_key=load_private_key(dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"]),
        method="post", path_with_query="/v3/pay/transactions/jsapi", body=body, timestamp=TS, nonce=NONCE,
    )

    assert header == (
        f'WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="{NONCE}",signature="{expected_signature}",'
        f'timestamp="{TS}",serial_no="5157F09EFDC096DE15EBE81A47057A7232F1B8E1"'
    )
    _verify(dev_keys["WECHATPAY_MERCHANT_PUBLIC_KEY"], message, expected_signature)


def test_signing_transport_signs_the_path_query_and_bytes_on_the_wire(dev_keys):
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    transport = SigningTransport(
        httpx.MockTransport(answer), mchid="1900000109", serial_no="SERIAL01",
        private_key=load_private_key(dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"]),
        clock=lambda: dt.datetime.fromtimestamp(TS, dt.UTC),
    )
    with httpx.Client(transport=transport) as client:
        client.get("https://api.mch.weixin.qq.com/v3/pay/transactions/out-trade-no/SB%7C01%2A?mchid=1900000109")
        client.post("https://api.mch.weixin.qq.com/v3/pay/transactions/out-trade-no/SB01/close", json={"mchid": "1900000109"})

    for request, path, body in (
        (seen[0], "/v3/pay/transactions/out-trade-no/SB%7C01%2A?mchid=1900000109", b""),
        (seen[1], "/v3/pay/transactions/out-trade-no/SB01/close", b'{"mchid":"1900000109"}'),
    ):
        fields = dict(part.split("=", 1) for part in request.headers["Authorization"].split(" ", 1)[1].split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        assert (fields["mchid"], fields["serial_no"], fields["timestamp"], len(fields["nonce_str"])) == ("1900000109", "SERIAL01", str(TS), 32)
        assert request.content == body
        message = f"{request.method}\n{path}\n{TS}\n{fields['nonce_str']}\n".encode() + body + b"\n"
        _verify(dev_keys["WECHATPAY_MERCHANT_PUBLIC_KEY"], message, fields["signature"])


def test_signing_transport_signs_the_path_relative_to_the_base_url(dev_keys):
    """A base URL with a path (the simulator at …/sim/wxpay) signs ``/v3/...`` as at WeChat Pay's root."""
    seen: list[httpx.Request] = []
    transport = SigningTransport(
        httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(204)), mchid="1900000109",
        serial_no="SERIAL01", private_key=load_private_key(dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"]),
        clock=lambda: dt.datetime.fromtimestamp(TS, dt.UTC), base_path="/sim/wxpay",
    )
    with httpx.Client(transport=transport) as client:
        client.get("http://127.0.0.1:8000/sim/wxpay/v3/bill/tradebill?bill_date=2026-11-27&bill_type=ALL")
        client.get("http://127.0.0.1:8000/elsewhere/v3/x")

    for request, path in zip(seen, ("/v3/bill/tradebill?bill_date=2026-11-27&bill_type=ALL", "/elsewhere/v3/x"), strict=True):
        fields = dict(part.split("=", 1) for part in request.headers["Authorization"].split(" ", 1)[1].split(","))
        fields = {k: v.strip('"') for k, v in fields.items()}
        message = f"GET\n{path}\n{TS}\n{fields['nonce_str']}\n\n".encode()
        _verify(dev_keys["WECHATPAY_MERCHANT_PUBLIC_KEY"], message, fields["signature"])


def test_pay_sign_known_answer(dev_keys):
    message = f"wx_sim_12366\n{TS}\n{NONCE}\nprepay_id=wx201410272009395522657a690389285100\n".encode()

    signature = pay_sign(load_private_key(dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"]), app_id="wx_sim_12366",
                         timestamp=str(TS), nonce=NONCE, package="prepay_id=wx201410272009395522657a690389285100")

    assert signature == _sign(dev_keys["WECHATPAY_MERCHANT_PRIVATE_KEY"], message)


def _signed(dev_keys, body: bytes, *, timestamp: int = TS, serial: str | None = None) -> dict[str, str]:
    message = f"{timestamp}\n{NONCE}\n".encode() + body + b"\n"
    return {
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": NONCE,
        "Wechatpay-Signature": _sign(dev_keys["WECHATPAY_PLATFORM_PRIVATE_KEY"], message),
        "Wechatpay-Serial": serial or dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY_ID"],
    }


@pytest.fixture
def platform_keys(dev_keys):
    return {dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY_ID"]: load_public_key(dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY"])}


def test_verify_accepts_within_five_minutes_and_refuses_at_three_hundred_seconds(dev_keys, platform_keys):
    body = b'{"prepay_id":"wx1"}'
    headers = normalize_headers(_signed(dev_keys, body))

    assert verify_signed(headers, body, public_keys=platform_keys, now=TS + 299) == dev_keys["WECHATPAY_PLATFORM_PUBLIC_KEY_ID"]
    assert verify_signed(headers, body, public_keys=platform_keys, now=TS - 299)
    for now in (TS + 300, TS - 300):
        with pytest.raises(SignatureInvalid) as caught:
            verify_signed(headers, body, public_keys=platform_keys, now=now)
        assert caught.value.reason == "stale_timestamp"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: ({k: v for k, v in h.items() if k != "Wechatpay-Nonce"}, b), "missing_header"),
        (lambda h, b: ({**h, "Wechatpay-Serial": "PUB_KEY_ID_0000000000000000000000"}, b), "unknown_serial"),
        (lambda h, b: (h, b.replace(b"wx1", b"wx2")), "bad_signature"),
        (lambda h, b: ({**h, "Wechatpay-Signature": "bm90IGEgc2lnbmF0dXJl"}, b), "bad_signature"),
        (lambda h, b: ({**h, "Wechatpay-Signature": "%%%"}, b), "bad_signature"),
        (lambda h, b: ({**h, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}, b), "bad_signature"),
        (lambda h, b: ({**h, "Wechatpay-Timestamp": "１７９５７４４８００"}, b), "stale_timestamp"),
    ])
def test_verify_refusals(dev_keys, platform_keys, change, reason):
    body = b'{"prepay_id":"wx1"}'
    headers, sent = change(_signed(dev_keys, body), body)

    with pytest.raises(SignatureInvalid) as caught:
        verify_signed(normalize_headers(headers), sent, public_keys=platform_keys, now=TS)

    assert caught.value.reason == reason


def test_django_meta_header_names_are_understood(dev_keys, platform_keys):
    body = b"{}"
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in _signed(dev_keys, body).items()}

    assert verify_signed(normalize_headers(meta), body, public_keys=platform_keys, now=TS)


def test_decrypt_resource_round_trip_and_tamper():
    key = "0123456789abcdefghijABCDEFGHIJ01"
    plaintext = json.dumps({"out_trade_no": "SB01", "amount": {"total": 38000}}).encode()
    sealed = base64.b64encode(AESGCM(key.encode()).encrypt(b"fdasflkja484", plaintext, b"transaction")).decode()

    assert decrypt_resource(key, nonce="fdasflkja484", associated_data="transaction", ciphertext_b64=sealed) == plaintext
    flipped = base64.b64encode(bytes([base64.b64decode(sealed)[0] ^ 1]) + base64.b64decode(sealed)[1:]).decode()
    for nonce, aad, data in (("fdasflkja484", "transaction", flipped), ("fdasflkja485", "transaction", sealed),
                             ("fdasflkja484", "refund", sealed), ("fdasflkja484", "transaction", "not base64!")):
        with pytest.raises(DECRYPT_ERRORS):
            decrypt_resource(key, nonce=nonce, associated_data=aad, ciphertext_b64=data)
