"""TRACE/TRACK and other unknown methods are refused site-wide with 405."""

import pytest
from django.conf import settings
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["TRACE", "TRACK", "FOO"])
def test_unknown_methods_answer_405_without_echo(client, method):
    for url in ("/", reverse(settings.LOGIN_URL), "/healthz"):
        response = client.generic(method, url, data="secret-body", HTTP_X_ECHO="secret-header")
        assert response.status_code == 405, url
        assert b"secret" not in response.content
        assert "TRACE" not in response["Allow"]
