"""The query pages (查询业务) are app ``shebao.query``: namespace ``query``, same URLs
and template names as before."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from shebao.query import views

pytestmark = pytest.mark.django_db


def test_urls_and_views():
    assert reverse("query:index") == "/query/"
    assert reverse("query:insured", args=["flexible"]) == "/query/insured/flexible"
    assert resolve("/query/insured/resident").func is views.insured
    assert resolve("/query/").func is views.index


def test_index_lists_both_queries(client):
    response = client.get("/query/")
    page = response.content.decode()
    assert response.status_code == 200
    assert [t.name for t in response.templates][:1] == ["query/index.html"]
    assert 'href="/query/insured/flexible"' in page and 'href="/query/insured/resident"' in page
    assert "灵活就业参保信息查询" in page and "城乡居民参保信息查询" in page


def test_anonymous_is_sent_to_login(client):
    response = client.get("/query/insured/flexible")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
