"""The benchmark's reference endpoints (``shebao.bench.urls`` only): the one-query baseline
and the signed-in floor answer as the report assumes, and are not in the service's URLs."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from shebao.accounts.models import Account


@pytest.mark.django_db
@pytest.mark.urls("shebao.bench.urls")
def test_signed_in_floor_needs_a_signed_in_payer_and_renders_the_site_frame(client, demo_people):
    anonymous = client.get("/bench/signed-in")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))

    client.force_login(Account.objects.filter(person_type="flexible").first())
    page = client.get("/bench/signed-in")
    html = page.content.decode()
    assert page.status_code == 200
    assert "已登录" in html and 'class="topbar"' in html and "退出" in html  # the frame of every page, as signed in

    one = client.get("/bench/one-query")
    assert one.status_code == 200 and one.json() == {"name": "南宁市"}


@pytest.mark.django_db
def test_reference_endpoints_are_not_in_the_service_urls(client):
    for name in ("bench_one_query", "bench_signed_in"):
        with pytest.raises(NoReverseMatch):
            reverse(name)
    assert client.get("/bench/signed-in").status_code == 404
