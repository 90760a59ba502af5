"""Issue 8 "404, 403 and 500 pages are Django's English ones": Chinese pages in the
site's look (400 too); 500.html renders without a request."""

from __future__ import annotations

import pytest
from django.template import loader
from django.test import Client

pytestmark = pytest.mark.django_db

HEADER = 'class="topbar"'


def test_missing_page_is_404_in_chinese_with_the_site_header(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page")
    page = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in page and "返回首页" in page and "12366" in page
    assert HEADER in page and "大字版" in page  # base.html: the header with its tools
    assert "Not Found" not in page and "The requested resource" not in page


def test_missing_page_in_elderly_mode_keeps_elderly_look(client, settings):
    settings.DEBUG = False
    client.cookies["elderly"] = "1"
    page = client.get("/no-such-page").content.decode()
    assert 'class="elderly"' in page and "页面不存在" in page


@pytest.mark.urls("tests.web.urls_boom")
def test_a_view_raising_gives_the_chinese_500(settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/test-boom")
    page = response.content.decode()
    assert response.status_code == 500
    assert "系统繁忙" in page and "请勿重复支付" in page and HEADER in page and "web/site.css" in page
    assert "Server Error" not in page


@pytest.mark.urls("tests.web.urls_boom")
@pytest.mark.parametrize(("path", "status", "title"), [("/test-forbidden", 403, "无权访问"), ("/test-bad", 400, "请求有误")])
def test_403_and_400_in_chinese_with_the_site_header(client, settings, path, status, title):
    settings.DEBUG = False
    response = client.get(path)
    page = response.content.decode()
    assert response.status_code == status
    assert title in page and HEADER in page and "返回首页" in page
    assert "Forbidden" not in page and "Bad Request" not in page


def test_500_template_is_self_contained():
    """Rendered as Django's server_error does: no request, no context processors."""
    page = loader.get_template("500.html").render()
    assert "系统繁忙" in page and "csrfmiddlewaretoken" not in page and "<form" not in page
