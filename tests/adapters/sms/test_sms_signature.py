"""Aliyun RPC signature v1: known answers computed outside our helper."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest

from shebao.adapters.sms.aliyun import canonicalized_query, format_timestamp, percent_encode, rpc_signature, string_to_sign

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
    assert string_to_sign(DESCRIBE_REGIONS, method="GET") == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
        "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
    )
    assert rpc_signature(DESCRIBE_REGIONS, "testsecret", method="GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_send_sms_signature_with_chinese_sign_name_matches_aliyun_sms_documentation():
    assert rpc_signature(SEND_SMS_DOC, "testSecret", method="GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


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

    assert string_to_sign(params) == by_hand
    assert rpc_signature(params, "s3cr3t") == expected
    assert rpc_signature(params, "s3cr3t", method="GET") != expected


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [("a b", "a%20b"), ("a*b", "a%2Ab"), ("a~b", "a~b"), ("-_.", "-_."), ("+/=&", "%2B%2F%3D%26"), ("税", "%E7%A8%8E")],
)
def test_percent_encode_follows_aliyun_rules(raw, encoded):
    assert percent_encode(raw) == encoded


def test_canonicalized_query_sorts_by_name_and_leaves_out_signature():
    assert canonicalized_query({"b": "2", "Signature": "x", "a": "1 1", "A": "0"}) == "A=0&a=1%201&b=2"


def test_timestamp_is_utc_to_the_second():
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert format_timestamp(dt.datetime(2025, 3, 3, 8, 0, 5, 999999, tzinfo=shanghai)) == "2025-03-03T00:00:05Z"
    with pytest.raises(ValueError):
        format_timestamp(dt.datetime(2025, 3, 3, 8, 0))
