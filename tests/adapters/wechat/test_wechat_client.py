"""The production client against the loopback simulator, over real HTTP (interfaces.md §1)."""

from __future__ import annotations

import logging
import socket
from urllib.parse import parse_qs

import pytest

from shebao.adapters.wechat import get_wechat_oauth
from shebao.adapters.wechat.client import SNAPSHOT_USER_ERRCODE, WechatOAuthClient
from shebao.adapters.wechat.port import OAuthToken, WechatError
from shebao.adapters.wechat.simulator import make_wechat_simulator, persona_openid

CALLBACK = "https://h5.example.gov.cn/auth/wechat/callback"
STATE = "s7Gk2pQ9"


def _code(client, browser, persona: str = "jia", state: str = STATE) -> str:
    location = browser.choose(client.authorize_url(redirect_uri=CALLBACK, state=state), persona)
    assert str(location).startswith(CALLBACK + "?")
    query = parse_qs(location.query.decode())
    assert query["state"] == [state]
    return query["code"][0]


# --- authorize URL -----------------------------------------------------------------------


def test_authorize_url_is_exactly_wechats_format(client: WechatOAuthClient) -> None:
    url = client.authorize_url(redirect_uri="https://h5.example.gov.cn/cb?next=/pay&x=1", state="abc123")
    base = url.split("/connect/")[0]
    assert url == (
        f"{base}/connect/oauth2/authorize?appid=wx_test_appid_0001"
        "&redirect_uri=https%3A%2F%2Fh5.example.gov.cn%2Fcb%3Fnext%3D%2Fpay%26x%3D1"
        "&response_type=code&scope=snsapi_base&state=abc123#wechat_redirect"
    )


@pytest.mark.parametrize("state", ["", "abc-123", "abc_123", "a b", "状态", "abc\n", "x" * 129])
def test_authorize_url_refuses_bad_state(client: WechatOAuthClient, state: str) -> None:
    with pytest.raises(ValueError, match="state"):
        client.authorize_url(redirect_uri=CALLBACK, state=state)


def test_authorize_url_accepts_128_character_state(client: WechatOAuthClient) -> None:
    state = "Ab9" * 42 + "xy"
    assert len(state) == 128
    assert f"&state={state}#wechat_redirect" in client.authorize_url(redirect_uri=CALLBACK, state=state)


def test_authorize_url_refuses_unknown_scope_and_relative_redirect(client: WechatOAuthClient) -> None:
    with pytest.raises(ValueError, match="scope"):
        client.authorize_url(redirect_uri=CALLBACK, state=STATE, scope="snsapi_login")
    with pytest.raises(ValueError, match="redirect_uri"):
        client.authorize_url(redirect_uri="/auth/wechat/callback", state=STATE)


# --- code exchange -----------------------------------------------------------------------


def test_full_flow_gives_the_personas_openid(client, browser) -> None:
    token = client.exchange_code(code=_code(client, browser, "jia"))
    assert token == OAuthToken(openid=persona_openid("wx_test_appid_0001", "jia"), scope="snsapi_base")
    assert token.openid.startswith("o") and len(token.openid) == 28


def test_same_persona_same_openid_other_persona_other_openid(client, browser) -> None:
    first = client.exchange_code(code=_code(client, browser, "jia"))
    second = client.exchange_code(code=_code(client, browser, "jia"))
    other = client.exchange_code(code=_code(client, browser, "yi"))
    assert first.openid == second.openid
    assert other.openid == persona_openid("wx_test_appid_0001", "yi")
    assert other.openid != first.openid


def test_unionid_only_for_a_bound_persona(client, browser) -> None:
    assert client.exchange_code(code=_code(client, browser, "jia")).unionid is None
    unionid = client.exchange_code(code=_code(client, browser, "yi")).unionid
    assert unionid is not None and unionid.startswith("o") and len(unionid) == 28


def test_userinfo_scope_is_echoed(client, browser) -> None:
    url = client.authorize_url(redirect_uri=CALLBACK, state=STATE, scope="snsapi_userinfo")
    code = parse_qs(browser.choose(url, "jia").query.decode())["code"][0]
    assert client.exchange_code(code=code).scope == "snsapi_userinfo"


def test_code_is_single_use(client, browser) -> None:
    code = _code(client, browser)
    client.exchange_code(code=code)
    with pytest.raises(WechatError) as caught:
        client.exchange_code(code=code)
    assert (caught.value.errcode, caught.value.retryable) == (40163, False)


def test_code_lives_five_minutes(client, browser, clock) -> None:
    at_limit, too_late = _code(client, browser), _code(client, browser)
    clock.advance(300)
    assert client.exchange_code(code=at_limit).openid == persona_openid("wx_test_appid_0001", "jia")
    clock.advance(1)
    with pytest.raises(WechatError) as caught:
        client.exchange_code(code=too_late)
    assert (caught.value.errcode, caught.value.retryable) == (40029, False)


def test_unknown_code_is_final_40029(client) -> None:
    with pytest.raises(WechatError) as caught:
        client.exchange_code(code="0123456789abcdef0123456789abcdef")
    assert (caught.value.errcode, caught.value.retryable) == (40029, False)


@pytest.mark.parametrize("code", ["", "abc def", "a" * 129, "代码"])
def test_malformed_code_is_refused_without_a_call(client, code: str) -> None:
    with pytest.raises(WechatError) as caught:
        client.exchange_code(code=code)
    assert (caught.value.errcode, caught.value.retryable) == (40029, False)


def test_wrong_secret_is_final_40125_and_leaves_the_code_unused(client, client_factory, browser) -> None:
    code = _code(client, browser)
    with pytest.raises(WechatError) as caught:
        client_factory(secret="not-the-secret").exchange_code(code=code)
    assert (caught.value.errcode, caught.value.retryable) == (40125, False)
    assert client.exchange_code(code=code).openid == persona_openid("wx_test_appid_0001", "jia")


def test_wrong_appid_is_final_40013(client, client_factory, browser) -> None:
    code = _code(client, browser)
    with pytest.raises(WechatError) as caught:
        client_factory(appid="wx_other").exchange_code(code=code)
    assert (caught.value.errcode, caught.value.retryable) == (40013, False)


def test_snapshot_user_is_refused(client, browser) -> None:
    with pytest.raises(WechatError) as caught:
        client.exchange_code(code=_code(client, browser, "snapshot"))
    assert (caught.value.errcode, caught.value.retryable) == (SNAPSHOT_USER_ERRCODE, False)
    assert str(caught.value) == "当前为微信快照页模式，无法确认您的身份。请点击页面下方的“使用完整服务”后重试。"


def test_deny_redirects_with_state_only(client, browser) -> None:
    location = browser.choose(client.authorize_url(redirect_uri=CALLBACK, state=STATE), "deny")
    assert str(location) == f"{CALLBACK}?state={STATE}"


# --- faults --------------------------------------------------------------------------------


def test_system_error_is_retryable_and_does_not_consume_the_code(client, browser, control) -> None:
    code = _code(client, browser)
    control("system_error")
    with pytest.raises(WechatError) as caught:
        client.exchange_code(code=code)
    assert (caught.value.errcode, caught.value.retryable) == (-1, True)
    control("ok")
    assert client.exchange_code(code=code).openid == persona_openid("wx_test_appid_0001", "jia")


def test_gateway_error_page_is_retryable(client, browser, control) -> None:
    code = _code(client, browser)
    control("gateway_error")
    with pytest.raises(WechatError) as caught:
        client.exchange_code(code=code)
    assert (caught.value.errcode, caught.value.retryable) == (-1, True)


def test_unreachable_api_is_retryable(client_factory) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WechatError) as caught:
        client_factory(base=f"http://127.0.0.1:{port}").exchange_code(code="0123456789abcdef")
    assert (caught.value.errcode, caught.value.retryable) == (-1, True)


# --- hygiene -------------------------------------------------------------------------------


def _exchange_twice_and_collect_logs(client, browser, caplog, logger_prefix: str) -> tuple[str, list[str]]:
    """Run one good and one refused exchange; return the log text of ``logger_prefix`` and what must not be in it."""
    code = _code(client, browser)
    with caplog.at_level(logging.DEBUG):
        token = client.exchange_code(code=code)
        with pytest.raises(WechatError):
            client.exchange_code(code=code)
    records = [r for r in caplog.records if r.name.startswith(logger_prefix)]
    assert records, f"nothing was logged under {logger_prefix!r}"
    text = " ".join(r.getMessage() + str(vars(r)) for r in records)
    return text, ["test-secret-3f9a1c", code, token.openid]


def test_our_logs_never_hold_secret_code_or_openid(client, browser, caplog) -> None:
    text, forbidden = _exchange_twice_and_collect_logs(client, browser, caplog, "shebao")
    for value in forbidden:
        assert value not in text
    assert "/sns/oauth2/access_token" in text and "40163" in text
    assert "test-secret-3f9a1c" not in repr(client)


def test_no_logger_at_all_sees_secret_or_code(client, browser, caplog) -> None:
    """Regression guard: httpx itself logs full URLs (WeChat's query holds secret and code) at INFO."""
    text, forbidden = _exchange_twice_and_collect_logs(client, browser, caplog, "")
    for value in forbidden:
        assert value not in text


def test_get_wechat_oauth_reads_settings_and_reuses_one_client(settings) -> None:
    settings.WECHAT = {
        "APPID": "wx_from_settings",
        "SECRET": "s3cr3t",
        "OPEN_BASE": "https://open.example/",
        "API_BASE": "https://api.example",
        "TIMEOUT_SECONDS": 3,
    }
    oauth = get_wechat_oauth()
    assert isinstance(oauth, WechatOAuthClient)
    assert oauth.authorize_url(redirect_uri=CALLBACK, state="abc") == (
        "https://open.example/connect/oauth2/authorize?appid=wx_from_settings"
        "&redirect_uri=https%3A%2F%2Fh5.example.gov.cn%2Fauth%2Fwechat%2Fcallback"
        "&response_type=code&scope=snsapi_base&state=abc#wechat_redirect"
    )
    assert get_wechat_oauth() is oauth
    settings.WECHAT = {**settings.WECHAT, "APPID": "wx_other"}
    assert get_wechat_oauth().appid == "wx_other"


def test_settings_client_against_settings_simulator(settings, _loopback, tmp_path, clock, browser) -> None:
    """The development wiring: simulator and client both take appid and secret from settings.WECHAT."""
    server, holder = _loopback
    settings.WECHAT = {"APPID": "wx_dev", "SECRET": "dev-secret", "OPEN_BASE": f"{server.url}/open",
                       "API_BASE": f"{server.url}/api", "TIMEOUT_SECONDS": 2}
    holder.app = make_wechat_simulator(tmp_path / "wechat.sqlite3", now=clock)
    oauth = get_wechat_oauth()
    token = oauth.exchange_code(code=_code(oauth, browser, "yi"))
    assert token.openid == persona_openid("wx_dev", "yi")
