"""Alibaba Cloud signatures: v3 (ACS3-HMAC-SHA256, our client's) against the official SDK's own
implementation and a by-hand computation; v1 (RPC HMAC-SHA1, which the simulator still
accepts for the legacy SDK) against Aliyun's documented worked examples."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest

from shebao.adapters.sms.aliyun import acs3_authorization, canonical_request, encoded_pairs, format_timestamp, percent_encode
from shebao.adapters.sms.sim_auth import v1_signature, v1_string_to_sign

V3_HEADERS = {
    "host": "dysmsapi.aliyuncs.com",
    "x-acs-action": "SendSms",
    "x-acs-version": "2017-05-25",
    "x-acs-date": "2025-03-03T00:00:00Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-content-sha256": hashlib.sha256(b"PhoneNumbers=13800138000").hexdigest(),
    "content-type": "application/x-www-form-urlencoded",
}

# Aliyun's "RPC 签名机制" worked example (ECS DescribeRegions, GET, secret "testsecret").
DESCRIBE_REGIONS = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}
# Aliyun SMS documentation's SendSms example (GET, AccessKeyId "testId", secret "testSecret").
SEND_SMS_DOC = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_describe_regions_string_to_sign_and_signature_match_aliyun_documentation():
    assert v1_string_to_sign("GET", DESCRIBE_REGIONS) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
        "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
    )
    assert v1_signature("GET", DESCRIBE_REGIONS, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_send_sms_signature_with_chinese_sign_name_matches_aliyun_sms_documentation():
    assert v1_signature("GET", SEND_SMS_DOC, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_post_signature_equals_hmac_sha1_computed_by_hand():
    params = {
        "Timestamp": "2025-03-03T00:00:00Z",
        "TemplateParam": '{"code":"123456"}',
        "SignName": "广西税务",
        "PhoneNumbers": "13800138000",
        "AccessKeyId": "ak",
        "Action": "SendSms",
        "Signature": "ignored-when-signing",
    }
    # Sorted by name, values percent-encoded (UTF-8, ':' '{' '"' encoded), then the whole
    # canonical string encoded again, so '%' becomes '%25'.
    by_hand = (
        "POST&%2F&AccessKeyId%3Dak%26Action%3DSendSms%26PhoneNumbers%3D13800138000"
        "%26SignName%3D%25E5%25B9%25BF%25E8%25A5%25BF%25E7%25A8%258E%25E5%258A%25A1"
        "%26TemplateParam%3D%257B%2522code%2522%253A%2522123456%2522%257D"
        "%26Timestamp%3D2025-03-03T00%253A00%253A00Z"
    )
    expected = base64.b64encode(hmac.new(b"s3cr3t&", by_hand.encode("ascii"), hashlib.sha1).digest()).decode()

    assert v1_string_to_sign("POST", params) == by_hand
    assert v1_signature("POST", params, "s3cr3t") == expected
    assert v1_signature("GET", params, "s3cr3t") != expected


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [("a b", "a%20b"), ("a*b", "a%2Ab"), ("a~b", "a~b"), ("-_.", "-_."), ("+/=&", "%2B%2F%3D%26"), ("税", "%E7%A8%8E")])
def test_percent_encode_follows_aliyun_rules(raw, encoded):
    assert percent_encode(raw) == encoded


def test_encoded_pairs_sort_by_name_and_percent_encode():
    assert encoded_pairs({"b": "2", "a": "1 1", "A": "0", "税": "{"}) == "A=0&a=1%201&b=2&%E7%A8%8E=%7B"


def test_v3_canonical_request_and_signature_computed_by_hand():
    body = b"PhoneNumbers=13800138000"
    by_hand = (
        "POST\n/\n\n"
        "content-type:application/x-www-form-urlencoded\nhost:dysmsapi.aliyuncs.com\nx-acs-action:SendSms\n"
        f"x-acs-content-sha256:{hashlib.sha256(body).hexdigest()}\nx-acs-date:2025-03-03T00:00:00Z\n"
        "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2017-05-25\n\n"
        "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
        f"{hashlib.sha256(body).hexdigest()}"
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(by_hand.encode()).hexdigest()
    signature = hmac.new(b"s3cr3t", to_sign.encode(), hashlib.sha256).hexdigest()

    canonical, signed = canonical_request(method="POST", pathname="/", query={}, headers=V3_HEADERS,
                                          hashed_payload=hashlib.sha256(body).hexdigest())
    assert canonical == by_hand
    assert acs3_authorization(method="POST", pathname="/", query={}, headers=V3_HEADERS, body=body, access_key_id="ak",
                              secret="s3cr3t") == f"ACS3-HMAC-SHA256 Credential=ak,SignedHeaders={signed},Signature={signature}"


@pytest.mark.parametrize("query", [{}, {"PhoneNumbers": "13800138000", "SignName": "广西税务", "TemplateParam": '{"code":"1 2*~"}'}])
def test_v3_signature_equals_the_official_sdks(query):
    """The same request signed by alibabacloud_tea_openapi (the official SDK's signer) gives the same header."""
    from types import SimpleNamespace

    from alibabacloud_tea_openapi.utils import Utils

    body = b"PhoneNumbers=13800138000"
    request = SimpleNamespace(method="POST", pathname="/", query=dict(query), headers={**V3_HEADERS, "user-agent": "x"})
    official = Utils.get_authorization(request, "ACS3-HMAC-SHA256", hashlib.sha256(body).hexdigest(), "LTAI-ak", "s3cr3t")

    ours = acs3_authorization(method="POST", pathname="/", query=query, headers=request.headers, body=body,
                              access_key_id="LTAI-ak", secret="s3cr3t")
    assert ours == official


def test_timestamp_is_utc_to_the_second():
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert format_timestamp(dt.datetime(2025, 3, 3, 8, 0, 5, 999999, tzinfo=shanghai)) == "2025-03-03T00:00:05Z"
    with pytest.raises(ValueError):
        format_timestamp(dt.datetime(2025, 3, 3, 8, 0))
