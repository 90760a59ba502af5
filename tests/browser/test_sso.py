"""Single sign-on in the browser (issue 13, "done when"): 张伟 arrives from the simulated
e-tax bureau, opens two business functions (the partner is asked again for each), and is
thrown out when the partner signs him out there."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _run_manage

pytestmark = pytest.mark.browser


def _sim(server, path: str, body: dict | None = None):
    request = urllib.request.Request(f"{server.url}/sim/partner/etax/{path}", method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_arrive_from_the_e_tax_bureau_rechecked_per_function_and_thrown_out_on_revoke(phone_factory, server):
    _run_manage(server.env, "sso_register_simulated_partners")
    phone = phone_factory()
    page = phone.page

    phone.goto("/sim/partner/etax/")
    page.get_by_role("button", name="以 张伟 的身份进入社保费掌上办").click()
    page.get_by_role("button", name="继续前往社保费掌上办").click()
    expect(page.get_by_text("您好，张伟")).to_be_visible()
    assert phone.path() == "/"
    assert "ticket" not in page.url
    phone.shot("arrived-from-etax")

    page.get_by_role("link", name="用户中心").first.click()
    page.get_by_role("link", name="信息查看").first.click()
    assert phone.path() == "/accounts/me"
    phone.shot("function-1-info")
    phone.goto("/m/fees")
    page.get_by_role("link", name="委托扣款缴费协议").first.click()
    assert phone.path() == "/agreements/"
    phone.shot("function-2-agreements")
    checks = _sim(server, "_checks")
    assert [(c["function"], c["active"]) for c in checks] == [("user.info", True), ("agreements", True)]

    _sim(server, "_revoke", {})
    phone.goto("/m/query")
    page.get_by_role("link", name="灵活就业参保信息查询").click()
    expect(page.get_by_role("heading", name="身份复核未通过，已退出登录")).to_be_visible()
    expect(page.get_by_role("link", name="返回合作渠道")).to_be_visible()
    phone.shot("thrown-out-after-revoke")
    assert [c["active"] for c in _sim(server, "_checks")] == [True, True, False]

    phone.goto("/")
    expect(page.get_by_text("您好，张伟")).to_have_count(0)
    assert not phone.findings, "\n".join(phone.findings)
