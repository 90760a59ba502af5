"""The simulator's own contract (interfaces.md §1.8), spoken to over HTTP like WeChat."""

from __future__ import annotations

import re
import threading
from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from shebao.adapters.loopback import LoopbackServer
from shebao.adapters.wechat.simulator import make_wechat_simulator, persona_openid

APPID = "wx_test_appid_0001"
SECRET = "test-secret-3f9a1c"
CALLBACK = "https://h5.example.gov.cn/auth/wechat/callback"
GOOD = {"appid": APPID, "redirect_uri": CALLBACK, "response_type": "code", "scope": "snsapi_base", "state": "abc"}


def _authorize(server: LoopbackServer, **changes: str | None) -> httpx.Response:
    params = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    return httpx.get(f"{server.url}/open/connect/oauth2/authorize?{urlencode(params)}", timeout=5.0)


def _token(server: LoopbackServer, **changes: str) -> dict:
    params = {"appid": APPID, "secret": SECRET, "grant_type": "authorization_code", **changes}
    response = httpx.get(f"{server.url}/api/sns/oauth2/access_token", params=params, timeout=5.0)
    assert response.status_code == 200  # WeChat answers errors as errcode JSON on HTTP 200
    return response.json()


def test_authorize_page_offers_personas_without_script(sim_server) -> None:
    page = _authorize(sim_server)
    assert page.status_code == 200
    assert "<title>微信授权（模拟）</title>" in page.text
    for label in ("微信用户甲", "微信用户乙", "快照页用户", "拒绝授权", APPID, "h5.example.gov.cn"):
        assert label in page.text
    assert "<script" not in page.text and not re.search(r"\son\w+=", page.text)  # no inline script of any kind
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    assert "form-action 'self' https://h5.example.gov.cn" in csp


@pytest.mark.parametrize(
    "changes, hint",
    [
        ({"appid": "wx_unknown"}, "appid 参数错误"),
        ({"appid": None}, "appid 参数错误"),
        ({"redirect_uri": None}, "redirect_uri 参数错误"),
        ({"redirect_uri": "javascript:alert(1)"}, "redirect_uri 参数错误"),
        ({"response_type": "token"}, "response_type 参数错误"),
        ({"scope": "snsapi_login"}, "scope 参数错误或没有 scope 权限"),
        ({"state": "a-b"}, "state 参数错误"),
        ({"state": "x" * 129}, "state 参数错误"),
    ])
def test_bad_authorize_parameters_show_link_cannot_be_opened(sim_server, changes, hint: str) -> None:
    page = _authorize(sim_server, **changes)
    assert page.status_code == 200
    assert "<title>该链接无法访问</title>" in page.text and hint in page.text
    assert "<form" not in page.text


def test_tampered_choice_is_refused_and_issues_no_code(sim_server, browser) -> None:
    url = f"{sim_server.url}/open/connect/oauth2/authorize/choose"
    for data in ({**GOOD, "persona": "root"}, {**GOOD, "appid": "wx_other", "persona": "jia"}):
        answer = browser.http.post(url, data=data)
        assert answer.status_code == 200 and "该链接无法访问" in answer.text and "location" not in answer.headers


def test_redirect_keeps_existing_query(sim_server, browser) -> None:
    query = urlencode({**GOOD, "redirect_uri": CALLBACK + "?next=%2Fpay"})
    location = browser.choose(f"{sim_server.url}/open/connect/oauth2/authorize?{query}", "jia")
    got = parse_qs(location.query.decode())
    assert set(got) == {"next", "code", "state"} and got["next"] == ["/pay"] and got["state"] == ["abc"]
    assert len(got["code"][0]) == 32


def test_token_checks_credentials_and_grant_type(sim_server) -> None:
    assert _token(sim_server, appid="wx_other", code="c")["errcode"] == 40013
    assert _token(sim_server, secret="wrong", code="c")["errcode"] == 40125
    assert _token(sim_server, grant_type="client_credential", code="c")["errcode"] == 40002
    assert _token(sim_server)["errcode"] == 41008
    failed = _token(sim_server, code="nope")
    assert failed["errcode"] == 40029 and failed["errmsg"].startswith("invalid code, rid: ")


def test_token_answer_has_wechats_fields(sim_server, browser) -> None:
    location = browser.choose(f"{sim_server.url}/open/connect/oauth2/authorize?{urlencode(GOOD)}", "snapshot")
    answer = _token(sim_server, code=parse_qs(location.query.decode())["code"][0])
    assert set(answer) == {"access_token", "expires_in", "refresh_token", "openid", "scope", "is_snapshotuser"}
    assert (answer["expires_in"], answer["scope"], answer["is_snapshotuser"]) == (7200, "snsapi_base", 1)
    assert answer["openid"] == persona_openid(APPID, "snapshot")


def test_openid_depends_on_appid() -> None:
    assert persona_openid(APPID, "jia") != persona_openid("wx_other", "jia")
    assert persona_openid(APPID, "jia") == persona_openid(APPID, "jia")


def test_concurrent_exchanges_of_one_code_succeed_once(sim_server, browser) -> None:
    location = browser.choose(f"{sim_server.url}/open/connect/oauth2/authorize?{urlencode(GOOD)}", "jia")
    code = parse_qs(location.query.decode())["code"][0]
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(_token(sim_server, code=code).get("errcode", 0)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0] + [40163] * 7


def test_state_is_shared_between_simulator_instances(tmp_path, clock, browser) -> None:
    """Two app instances on one state file stand for two worker processes."""
    path = tmp_path / "shared.sqlite3"
    first = LoopbackServer(make_wechat_simulator(path, appid=APPID, secret=SECRET, now=clock)).start()
    second = LoopbackServer(make_wechat_simulator(path, appid=APPID, secret=SECRET, now=clock)).start()
    try:
        location = browser.choose(f"{first.url}/open/connect/oauth2/authorize?{urlencode(GOOD)}", "jia")
        code = parse_qs(location.query.decode())["code"][0]
        assert _token(second, code=code)["openid"] == persona_openid(APPID, "jia")
        assert _token(first, code=code)["errcode"] == 40163
    finally:
        first.stop()
        second.stop()


def test_control_rejects_unknown_mode_and_keeps_the_current_one(sim_server, control) -> None:
    control("system_error")
    answer = httpx.post(f"{sim_server.url}/_control", json={"mode": "explode"}, timeout=5.0)
    assert answer.status_code == 400
    failed = _token(sim_server, code="c")
    assert set(failed) == {"errcode", "errmsg"} and failed["errcode"] == -1
    assert failed["errmsg"].startswith("system error, rid: ")


def test_unknown_path_and_wrong_method(sim_server) -> None:
    assert httpx.get(f"{sim_server.url}/api/cgi-bin/nothing", timeout=5.0).status_code == 404
    assert httpx.post(f"{sim_server.url}/api/sns/oauth2/access_token", timeout=5.0).status_code == 405
