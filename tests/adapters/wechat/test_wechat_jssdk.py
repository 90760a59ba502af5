"""JS-SDK signature rule (interfaces.md §2) against the official test vector."""

from __future__ import annotations

import pytest

from shebao.adapters.wechat.jssdk import jsapi_signature

TICKET = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
NONCESTR = "Wm3WZYTPz0wzccnW"
TIMESTAMP = 1414587457
URL = "http://mp.weixin.qq.com?params=value"
EXPECTED = "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_official_test_vector() -> None:
    assert jsapi_signature(TICKET, NONCESTR, TIMESTAMP, URL) == EXPECTED


def test_timestamp_as_string_gives_the_same_signature() -> None:
    assert jsapi_signature(TICKET, NONCESTR, "1414587457", URL) == EXPECTED


def test_fragment_is_not_signed() -> None:
    assert jsapi_signature(TICKET, NONCESTR, TIMESTAMP, URL + "#/pay/step2") == EXPECTED


def test_any_changed_field_changes_the_signature() -> None:
    assert jsapi_signature(TICKET, NONCESTR, TIMESTAMP + 1, URL) != EXPECTED
    assert jsapi_signature(TICKET, NONCESTR + "x", TIMESTAMP, URL) != EXPECTED
    assert jsapi_signature(TICKET, NONCESTR, TIMESTAMP, URL + "&a=1") != EXPECTED


@pytest.mark.parametrize("ticket, noncestr, url", [("", NONCESTR, URL), (TICKET, "", URL), (TICKET, NONCESTR, "")])
def test_empty_fields_are_refused(ticket: str, noncestr: str, url: str) -> None:
    with pytest.raises(ValueError):
        jsapi_signature(ticket, noncestr, TIMESTAMP, url)
