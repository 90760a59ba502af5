"""The WeChat web-authorisation simulator as a vendor client sees it: ``wechatpy``'s
``WeChatOAuth`` (pinned in requirements-dev.in) follows the whole flow against it —
authorize URL, the user's choice on the authorisation page (pressed here by an httpx
"browser"), code → access_token, refresh_token, sns/auth and sns/userinfo.

``WeChatOAuth`` names its two hosts in class attributes; a subclass points them at the
simulator (its ``/open`` and ``/api`` halves), as one would at a proxy."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from wechatpy.exceptions import WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

from shebao.adapters.wechat.simulator import persona_openid
from tests.adapters.wechat.conftest import APPID, SECRET

CALLBACK = "https://h5.example.gov.cn/auth/wechat/callback"


@pytest.fixture
def oauth_class(sim_server):
    class SimulatorOAuth(WeChatOAuth):
        API_BASE_URL = f"{sim_server.url}/api/"
        OAUTH_BASE_URL = f"{sim_server.url}/open/connect/"

    return SimulatorOAuth


def test_wechatpy_oauth_flow_against_the_simulator(oauth_class, browser, clock):
    oauth = oauth_class(APPID, SECRET, CALLBACK, scope="snsapi_userinfo", state="s1")
    assert oauth.authorize_url.endswith("#wechat_redirect")

    location = browser.choose(oauth.authorize_url, "jia")
    assert f"{location.scheme}://{location.host}{location.path}" == CALLBACK
    query = parse_qs(urlsplit(str(location)).query)
    assert query["state"] == ["s1"]

    token = oauth.fetch_access_token(query["code"][0])
    assert token["openid"] == persona_openid(APPID, "jia") == oauth.open_id
    assert (token["scope"], token["expires_in"]) == ("snsapi_userinfo", 7200)
    assert oauth.check_access_token() is True

    info = oauth.get_user_info()
    assert (info["openid"], info["nickname"]) == (token["openid"], "微信用户甲")

    clock.advance(7300)  # the first access token has expired; the refresh token still lives
    with pytest.raises(WeChatOAuthException) as expired:  # wechatpy raises on any errcode, sns/auth's included
        oauth.check_access_token()
    assert expired.value.errcode == 42001
    refreshed = oauth.refresh_access_token(token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"] and refreshed["openid"] == token["openid"]
    assert oauth.access_token == refreshed["access_token"] and oauth.check_access_token() is True
    assert oauth.get_user_info()["nickname"] == "微信用户甲"


def test_wechatpy_sees_errors_as_wechat_oauth_exceptions(oauth_class, browser):
    oauth = oauth_class(APPID, SECRET, CALLBACK)
    location = browser.choose(oauth.authorize_url, "jia")
    code = parse_qs(urlsplit(str(location)).query)["code"][0]
    oauth.fetch_access_token(code)

    with pytest.raises(WeChatOAuthException) as reused:
        oauth_class(APPID, SECRET, CALLBACK).fetch_access_token(code)  # a code works once
    assert reused.value.errcode == 40163

    with pytest.raises(WeChatOAuthException) as wrong_secret:
        oauth_class(APPID, "not-the-secret", CALLBACK).fetch_access_token("whatever")
    assert wrong_secret.value.errcode == 40125

    with pytest.raises(WeChatOAuthException) as base_scope:
        oauth.get_user_info()  # snsapi_base tokens may not read the profile
    assert base_scope.value.errcode == 48001
