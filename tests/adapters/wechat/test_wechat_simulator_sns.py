"""The simulator's refresh_token, sns/auth and sns/userinfo endpoints (interfaces.md §1.1 steps 4-6,
§1.3, §1.4, §1.6), spoken to over HTTP like WeChat: JSON on HTTP 200, errcode/errmsg on errors."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from shebao.adapters.loopback import LoopbackServer
from shebao.adapters.wechat.simulator import persona_openid

APPID = "wx_test_appid_0001"
SECRET = "test-secret-3f9a1c"
CALLBACK = "https://h5.example.gov.cn/auth/wechat/callback"
DAY = 86400


def _get(server: LoopbackServer, path: str, **params: str) -> dict:
    response = httpx.get(f"{server.url}/api{path}", params=params, timeout=5.0)
    assert response.status_code == 200  # WeChat answers errors as errcode JSON on HTTP 200
    return response.json()


def _login(server: LoopbackServer, browser, *, persona: str = "jia", scope: str = "snsapi_base") -> dict:
    """Authorise as ``persona`` and exchange the code: the token answer of §1.3."""
    query = urlencode({"appid": APPID, "redirect_uri": CALLBACK, "response_type": "code", "scope": scope, "state": "s"})
    location = browser.choose(f"{server.url}/open/connect/oauth2/authorize?{query}", persona)
    code = parse_qs(location.query.decode())["code"][0]
    token = _get(server, "/sns/oauth2/access_token", appid=APPID, secret=SECRET, code=code, grant_type="authorization_code")
    assert "errcode" not in token
    return token


def _refresh(server: LoopbackServer, refresh_token: str, **changes: str) -> dict:
    params = {"appid": APPID, "grant_type": "refresh_token", "refresh_token": refresh_token, **changes}
    return _get(server, "/sns/oauth2/refresh_token", **params)


def _assert_error(answer: dict, errcode: int, errmsg: str) -> None:
    assert set(answer) == {"errcode", "errmsg"} and answer["errcode"] == errcode
    assert answer["errmsg"].startswith(f"{errmsg}, rid: ")


# --- /sns/oauth2/refresh_token ---------------------------------------------------------------


def test_refresh_gives_a_new_access_token_for_the_same_openid_scope_and_refresh_token(sim_server, browser, clock) -> None:
    first = _login(sim_server, browser, scope="snsapi_userinfo")
    clock.advance(7000)
    again = _refresh(sim_server, first["refresh_token"])
    assert set(again) == {"access_token", "expires_in", "refresh_token", "openid", "scope"}
    assert again["access_token"] != first["access_token"] and again["expires_in"] == 7200
    assert (again["openid"], again["scope"], again["refresh_token"]) == (first["openid"], "snsapi_userinfo", first["refresh_token"])
    clock.advance(7000)  # the old token has expired, the refreshed one lives 7200 s from its refresh
    assert _get(sim_server, "/sns/auth", access_token=first["access_token"], openid=first["openid"])["errcode"] == 42001
    assert _get(sim_server, "/sns/auth", access_token=again["access_token"], openid=first["openid"]) == {"errcode": 0, "errmsg": "ok"}


def test_refresh_token_is_valid_30_days(sim_server, browser, clock) -> None:
    token = _login(sim_server, browser)
    clock.advance(30 * DAY - 1)
    assert _refresh(sim_server, token["refresh_token"])["openid"] == token["openid"]
    clock.advance(2)  # refreshing does not extend the refresh token's life
    _assert_error(_refresh(sim_server, token["refresh_token"]), 42002, "refresh_token expired")


def test_refresh_with_an_invalid_refresh_token_is_40030(sim_server, browser) -> None:
    token = _login(sim_server, browser)
    _assert_error(_refresh(sim_server, "not-a-refresh-token"), 40030, "invalid refresh_token")
    _assert_error(_refresh(sim_server, token["access_token"]), 40030, "invalid refresh_token")  # an access token is not one


def test_refresh_with_a_wrong_appid_is_40013(sim_server, browser) -> None:
    token = _login(sim_server, browser)
    _assert_error(_refresh(sim_server, token["refresh_token"], appid="wx_other"), 40013, "invalid appid")


def test_refresh_checks_grant_type_and_presence_of_the_token(sim_server, browser) -> None:
    token = _login(sim_server, browser)
    _assert_error(_refresh(sim_server, token["refresh_token"], grant_type="authorization_code"), 40002, "invalid grant_type")
    _assert_error(_refresh(sim_server, ""), 41003, "refresh_token missing")


# --- /sns/auth -------------------------------------------------------------------------------


def test_auth_accepts_a_valid_pair(sim_server, browser) -> None:
    token = _login(sim_server, browser)
    assert _get(sim_server, "/sns/auth", access_token=token["access_token"], openid=token["openid"]) == {"errcode": 0, "errmsg": "ok"}


def test_auth_with_another_openid_is_40003(sim_server, browser) -> None:
    token = _login(sim_server, browser)
    other = persona_openid(APPID, "yi")
    _assert_error(_get(sim_server, "/sns/auth", access_token=token["access_token"], openid=other), 40003, "invalid openid")


def test_auth_after_7200_seconds_is_42001(sim_server, browser, clock) -> None:
    token = _login(sim_server, browser)
    clock.advance(7200)
    assert _get(sim_server, "/sns/auth", access_token=token["access_token"], openid=token["openid"])["errcode"] == 0
    clock.advance(1)
    _assert_error(_get(sim_server, "/sns/auth", access_token=token["access_token"], openid=token["openid"]),
                  42001, "access_token expired")


def test_auth_with_an_invalid_token_is_40001(sim_server, browser) -> None:
    token = _login(sim_server, browser)
    for access_token in ("forged", token["refresh_token"]):
        answer = _get(sim_server, "/sns/auth", access_token=access_token, openid=token["openid"])
        _assert_error(answer, 40001, "invalid credential, access_token is invalid or not latest")


def test_auth_with_missing_parameters(sim_server, browser) -> None:
    token = _login(sim_server, browser)
    _assert_error(_get(sim_server, "/sns/auth", openid=token["openid"]), 41001, "access_token missing")
    _assert_error(_get(sim_server, "/sns/auth", access_token=token["access_token"]), 41009, "missing openid")


# --- /sns/userinfo ---------------------------------------------------------------------------


def test_userinfo_for_a_snsapi_userinfo_token(sim_server, browser) -> None:
    token = _login(sim_server, browser, persona="jia", scope="snsapi_userinfo")
    info = _get(sim_server, "/sns/userinfo", access_token=token["access_token"], openid=token["openid"], lang="zh_CN")
    assert set(info) == {"openid", "nickname", "sex", "province", "city", "country", "headimgurl", "privilege"}
    assert (info["openid"], info["nickname"], info["sex"], info["privilege"]) == (token["openid"], "微信用户甲", 0, [])
    assert info["headimgurl"].startswith("https://")


def test_userinfo_has_unionid_when_bound_to_open_platform(sim_server, browser) -> None:
    token = _login(sim_server, browser, persona="yi", scope="snsapi_userinfo")
    info = _get(sim_server, "/sns/userinfo", access_token=token["access_token"], openid=token["openid"], lang="zh_CN")
    assert info["nickname"] == "微信用户乙" and info["unionid"] == token["unionid"]


def test_userinfo_with_a_refreshed_token(sim_server, browser) -> None:
    token = _login(sim_server, browser, scope="snsapi_userinfo")
    again = _refresh(sim_server, token["refresh_token"])
    info = _get(sim_server, "/sns/userinfo", access_token=again["access_token"], openid=token["openid"], lang="zh_CN")
    assert info["openid"] == token["openid"]


def test_userinfo_for_a_snsapi_base_token_is_48001(sim_server, browser) -> None:
    token = _login(sim_server, browser, scope="snsapi_base")
    answer = _get(sim_server, "/sns/userinfo", access_token=token["access_token"], openid=token["openid"], lang="zh_CN")
    _assert_error(answer, 48001, "api unauthorized")


@pytest.mark.parametrize(
    "change, errcode",
    [({"access_token": "forged"}, 40001), ({"openid": "o" + "x" * 27}, 40003), ({"expired": "1"}, 42001)])
def test_userinfo_checks_the_token_like_auth(sim_server, browser, clock, change: dict, errcode: int) -> None:
    token = _login(sim_server, browser, scope="snsapi_userinfo")
    if change.pop("expired", None):
        clock.advance(7201)
    params = {"access_token": token["access_token"], "openid": token["openid"], "lang": "zh_CN", **change}
    assert _get(sim_server, "/sns/userinfo", **params)["errcode"] == errcode


# --- common to the three -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sns/oauth2/refresh_token", "/sns/auth", "/sns/userinfo"])
def test_fault_switch_applies(sim_server, control, path: str) -> None:
    control("system_error")
    _assert_error(_get(sim_server, path), -1, "system error")
    control("gateway_error")
    assert httpx.get(f"{sim_server.url}/api{path}", timeout=5.0).status_code == 502


@pytest.mark.parametrize("path", ["/sns/oauth2/refresh_token", "/sns/auth", "/sns/userinfo"])
def test_post_is_not_allowed(sim_server, path: str) -> None:
    assert httpx.post(f"{sim_server.url}/api{path}", timeout=5.0).status_code == 405
