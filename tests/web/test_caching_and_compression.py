"""Pages that echo personal data are never stored by a browser or proxy, anonymous ones
included; HTML goes out gzip-compressed when the browser accepts it."""

from __future__ import annotations

import gzip

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from shebao.common.middleware import SecurityHeadersMiddleware
from tests.accounts.helpers import new_person

pytestmark = pytest.mark.django_db


def test_anonymous_registration_form_shown_again_is_no_store(client):
    person = new_person(name="覃美玲")
    response = client.post("/accounts/register", {**person, "password2": "Other@2026x", "action": "register"})
    assert response.status_code == 400
    page = response.content.decode()
    assert person["id_number"] in page and "覃美玲" in page  # the form echoes what was typed
    assert response["Cache-Control"] == "no-store"


def test_anonymous_login_form_shown_again_is_no_store(client, demo_people):
    response = client.post("/accounts/login", {"identifier": "450103198506011239", "password": "Wrong@2026"})
    assert response.status_code == 400 and "450103198506011239" in response.content.decode()
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ["/", "/accounts/register", "/accounts/login", "/manual", "/m/user", "/readyz", "/healthz"])
def test_every_anonymous_dynamic_response_is_no_store(client, url):
    assert client.get(url)["Cache-Control"] == "no-store"


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/web/favicon.ico")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_view_may_mark_itself_cacheable_for_anonymous_visitors_only():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    def cacheable(_request):
        response = HttpResponse("public notice")
        response["Cache-Control"] = "public, max-age=300"
        return response

    assert SecurityHeadersMiddleware(cacheable)(request)["Cache-Control"] == "public, max-age=300"

    class SignedIn:
        is_authenticated = True

    request.user = SignedIn()
    assert SecurityHeadersMiddleware(cacheable)(request)["Cache-Control"] == "no-store"


def test_html_is_sent_gzip_compressed(client):
    plain = client.get("/accounts/register")
    response = client.get("/accounts/register", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    page = gzip.decompress(response.content).decode()
    assert page.startswith("<!DOCTYPE html>") or page.lstrip().lower().startswith("<!doctype html>")
    assert "用户实名注册" in page and "</html>" in page
    assert len(response.content) < len(plain.content) / 2
    assert "Content-Encoding" not in plain  # a client that does not accept gzip gets plain HTML
