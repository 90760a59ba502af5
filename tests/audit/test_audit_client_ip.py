"""The audit log records the person's (masked) address, as the trusted reverse proxies
report it in X-Forwarded-For (TRUSTED_PROXY_COUNT), not the proxy's own address."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from shebao.audit.models import AuditEvent
from shebao.audit.services import audit_record
from shebao.common.actor import request_actor
from tests.audit.factories import FROZEN_NOW

pytestmark = pytest.mark.django_db

PROXY = "10.1.2.3"


def record(**meta) -> AuditEvent:
    return audit_record(actor=request_actor(RequestFactory().get("/", **meta)), action="account.login.failed", outcome="failure", now=FROZEN_NOW)


def test_behind_one_trusted_proxy_the_forwarded_client_is_recorded(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # the leftmost entry is what the client itself sent; the proxy appended the real peer
    event = record(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.200, 203.0.113.77")
    assert event.ip == "203.0.113.0"


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert record(REMOTE_ADDR="203.0.113.77", HTTP_X_FORWARDED_FOR="198.51.100.200").ip == "203.0.113.0"


def test_no_peer_address_records_none(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert record(REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="203.0.113.77").ip is None


def test_a_failed_login_through_the_proxy_is_audited_with_the_client_address(client, settings, demo_people):
    settings.TRUSTED_PROXY_COUNT = 1
    client.post("/accounts/login", {"identifier": "450103198506011239", "password": "Wrong@2026"},
                REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="2001:db8:abcd:12::7")
    event = AuditEvent.objects.get(action="account.login.password", outcome="failure")
    assert event.ip == "2001:db8:abcd::"
