"""Site-wide pages and HTTP hardening."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_reports_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "crypto": "ok", "sms": "ok", "wechat": "ok", "payment": "ok"}}


def test_readyz_unavailable_when_an_adapter_is_not_configured(client, settings):
    settings.SMS = {**settings.SMS, "ACCESS_KEY_SECRET": ""}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["sms"] == "error: SMS missing ACCESS_KEY_SECRET"


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "203.0.113.9"},  # straight from the internet
        {"REMOTE_ADDR": "10.0.0.5"},  # a neighbour on the private network
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},  # through a proxy on the host
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "203.0.113.9"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_READYZ_TOKEN": "wrong-token"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_READYZ_TOKEN": ""},
    ])
def test_readyz_tells_the_public_only_the_status(client, settings, headers):
    settings.READYZ_TOKEN = "s3cret-probe-token"
    assert client.get("/readyz", **headers).json() == {"status": "ok"}
    settings.SMS = {**settings.SMS, "ACCESS_KEY_SECRET": ""}
    response = client.get("/readyz", **headers)
    assert response.status_code == 503  # the same code as for an operator
    assert response.json() == {"status": "unavailable"}
    assert "ACCESS_KEY_SECRET" not in response.content.decode()


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "127.0.0.1"},
        {"REMOTE_ADDR": "::1"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "198.51.100.1", "HTTP_X_READYZ_TOKEN": "s3cret-probe-token"},
    ])
def test_readyz_details_for_loopback_or_the_token(client, settings, headers):
    settings.READYZ_TOKEN = "s3cret-probe-token"
    settings.SMS = {**settings.SMS, "ACCESS_KEY_SECRET": ""}
    response = client.get("/readyz", **headers)
    assert response.status_code == 503
    assert response.json()["checks"]["sms"] == "error: SMS missing ACCESS_KEY_SECRET"


def test_readyz_empty_token_setting_matches_no_header(client, settings):
    settings.READYZ_TOKEN = ""
    body = client.get("/readyz", REMOTE_ADDR="203.0.113.9", HTTP_X_READYZ_TOKEN="").json()
    assert body == {"status": "ok"}


def test_home_has_four_modules_manual_and_elderly_switch(client):
    page = client.get("/").content.decode()
    for text in ("用户中心", "涉费业务", "查询业务", "公众服务", "操作手册", "大字版"):
        assert text in page


def test_elderly_mode_is_remembered(client):
    assert 'class="elderly"' not in client.get("/").content.decode()
    response = client.post("/elderly", {"next": "/manual"})
    assert response.status_code == 302 and response["Location"] == "/manual"
    page = client.get("/").content.decode()
    assert 'class="elderly"' in page and 'data-weui-mode="care"' in page and "标准版" in page
    client.post("/elderly", {"next": "/"})
    assert 'class="elderly"' not in client.get("/").content.decode()


def test_elderly_switch_refuses_open_redirect(client):
    response = client.post("/elderly", {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_strict_csp_and_security_headers(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert len(response["X-Request-Id"]) == 32


def test_no_inline_script_in_pages(client):
    for url in ("/", "/accounts/login", "/accounts/register", "/manual", "/m/user", "/m/fees", "/m/query", "/m/public"):
        page = client.get(url).content.decode()
        assert "<script>" not in page and "onclick=" not in page, url
        for chunk in page.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), url


def test_every_form_carries_csrf_token(client):
    for url in ("/accounts/login", "/accounts/register", "/"):
        page = client.get(url).content.decode()
        assert page.count("<form") == page.count('name="csrfmiddlewaretoken"'), url


def test_post_without_csrf_token_refused(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login", {"identifier": "x", "password": "y"})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


def test_unknown_module_is_404(client):
    assert client.get("/m/nothing").status_code == 404


def test_favicon_is_served(client):
    """/favicon.ico was 404: it now leads to a real icon, and every page links it."""
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/web/favicon.ico"
    with open(finders.find("web/favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # the ICO header
    assert '<link rel="icon" href="/static/web/favicon.ico">' in client.get("/").content.decode()


def test_user_centre_offers_register_and_login_to_a_visitor(client):
    page = client.get("/m/user").content.decode()
    assert 'href="/accounts/register"' in page and 'href="/accounts/login"' in page and "退出登录" not in page


def test_user_centre_logged_in_offers_the_persons_entries_not_register_or_login(client, sims, demo_people):
    """Issue 8 "logged in, 用户中心 still offers 注册 and 登录"."""
    from shebao.core.demo_data import DEMO_PASSWORD, DEMO_PEOPLE, demo_id
    from tests.accounts.helpers import login

    assert login(client, sims, demo_id(DEMO_PEOPLE[0]), DEMO_PASSWORD).status_code == 302
    page = client.get("/m/user").content.decode()
    assert 'href="/accounts/register"' not in page and 'href="/accounts/login"' not in page
    assert "用户实名注册" not in page
    for text in ("您好，张伟", "信息查看", "信息维护", 'href="/accounts/me/mobile"', 'href="/accounts/records"', "退出登录",
                 'action="/accounts/logout"'):
        assert text in page, text
    assert "信息维护" in client.get("/").content.decode()  # the home tile says so too
