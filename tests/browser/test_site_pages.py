"""Issue 8 in the browser: the Chinese 404 page in the site's look (standard and 大字版),
and 用户中心 for a visitor (the logged-in one: test_payment's declare-months test)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.flows import expect_elderly

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("elderly", [False, True], ids=["standard", "elderly"])
def test_missing_page_is_the_sites_chinese_404(phone_factory, elderly):
    phone = phone_factory(elderly=elderly)
    response = phone.goto("/fees/no-such-page")
    assert response.status == 404
    page = phone.page
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="返回首页：个人社保费掌上办")).to_be_visible()
    expect_elderly(phone, elderly)
    expect(page.get_by_text("Not Found")).to_have_count(0)
    phone.shot("404")
    page.get_by_role("link", name="返回首页", exact=True).click()
    assert phone.path() == "/"
    assert not phone.findings, "\n".join(phone.findings)


def test_user_centre_for_a_visitor_offers_register_and_login(phone_factory):
    phone = phone_factory()
    phone.goto("/m/user")
    expect(phone.page.get_by_role("link", name="用户实名注册")).to_be_visible()
    expect(phone.page.get_by_role("button", name="退出登录")).to_have_count(0)
    phone.shot("user-centre-visitor")
    assert not phone.findings, "\n".join(phone.findings)
