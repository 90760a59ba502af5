"""shebao.adapters.http.OutgoingHttp: timeout always set, one log line per call, transport
failures mapped. (Lives here until tests/adapters/ has its own home for it.)"""

from __future__ import annotations

import logging

import httpx
import pytest

from shebao.adapters.http import OutgoingHttp, ProviderUnavailable


def _echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json={"path": request.url.path})


@pytest.mark.parametrize("timeout", [0, -1.0, None])
def test_a_timeout_is_mandatory(timeout):
    with pytest.raises(ValueError):
        OutgoingHttp(provider="x", timeout=timeout)


def test_the_client_timeout_is_the_given_one():
    with OutgoingHttp(provider="x", timeout=2.5) as http:
        assert http._client.timeout == httpx.Timeout(2.5)


def test_logs_provider_method_path_without_query_status_duration_and_request_id(caplog):
    caplog.set_level(logging.INFO, logger="shebao.adapters")
    with OutgoingHttp(provider="wechat", timeout=1, transport=httpx.MockTransport(_echo)) as http:
        response = http.request(
            "get", "https://api.example/sns/oauth2/access_token", params={"secret": "s3cr3t", "code": "abc"}, request_id="rid-1"
        )

    assert response.status_code == 201
    (record,) = caplog.records
    assert (
        record.levelname,
        record.provider,
        record.http_method,
        record.http_path,
        record.status,
        record.outgoing_request_id,
    ) == ("INFO", "wechat", "GET", "/sns/oauth2/access_token", 201, "rid-1")
    assert isinstance(record.duration_ms, int)
    assert "s3cr3t" not in record.getMessage() and "api.example" not in record.getMessage()


def test_5xx_is_returned_and_logged_as_a_warning(caplog):
    caplog.set_level(logging.INFO, logger="shebao.adapters")
    transport = httpx.MockTransport(lambda request: httpx.Response(502))
    with OutgoingHttp(provider="p", timeout=1, transport=transport) as http:
        assert http.request("POST", "https://h/x", data={"a": "1"}).status_code == 502

    assert [(r.levelname, r.status) for r in caplog.records] == [("WARNING", 502)]


def _raise(exc: Exception):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "unreachable"),
        (httpx.RemoteProtocolError("bad"), "transport"),
    ])
def test_transport_errors_raise_provider_unavailable(exc, kind, caplog):
    caplog.set_level(logging.INFO, logger="shebao.adapters")
    with OutgoingHttp(provider="p", timeout=1, transport=_raise(exc)) as http, pytest.raises(ProviderUnavailable) as caught:
        http.request("GET", "https://h/path?secret=s3cr3t")

    assert (caught.value.provider, caught.value.kind, caught.value.retryable) == ("p", kind, True)
    assert "s3cr3t" not in str(caught.value)
    assert [(r.levelname, r.status, r.error, r.http_path) for r in caplog.records] == [("WARNING", None, kind, "/path")]


def test_transport_errors_can_be_mapped_to_the_callers_error():
    class PortError(Exception):
        pass

    mapper = lambda error: PortError(error.kind)  # noqa: E731
    with OutgoingHttp(provider="p", timeout=1, unavailable=mapper, transport=_raise(httpx.ConnectTimeout("x"))) as http:
        with pytest.raises(PortError, match="^timeout$") as caught:
            http.request("GET", "https://h/")

    assert isinstance(caught.value.__cause__, httpx.ConnectTimeout)
