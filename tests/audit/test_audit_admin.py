"""The audit admin: read-only, with filters by action, actor kind, outcome, date."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from shebao.audit.models import AuditEvent
from shebao.audit.services import audit_record
from tests import actors
from tests.audit.factories import FROZEN_NOW, account_create
from tests.staff import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor():
    staff = account_create(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    return staff


def test_filters_select_events(client, auditor, citizen):
    audit_record(actor=actors.citizen(citizen), action="account.register", now=FROZEN_NOW)
    audit_record(actor=actors.visitor(), action="account.login.failed", outcome="failure", now=FROZEN_NOW)
    verified_client(auditor, client)
    url = reverse("admin:audit_auditevent_changelist")

    everything = client.get(url)
    failures = client.get(url, {"outcome": "failure"})
    citizens = client.get(url, {"actor_kind": "citizen"})

    assert everything.status_code == 200
    assert [e.action for e in everything.context["cl"].result_list] == ["account.login.failed", "account.register"]
    assert [e.action for e in failures.context["cl"].result_list] == ["account.login.failed"]
    assert [e.action for e in citizens.context["cl"].result_list] == ["account.register"]


def test_no_add_change_or_delete(client, citizen):
    event = audit_record(actor=actors.citizen(citizen), action="account.register", now=FROZEN_NOW)
    verified_client(account_create(is_superuser=True), client)

    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"outcome": "failure"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).outcome == "success"
    assert AuditEvent.objects.filter(action="staff.denied").count() == 3  # each refusal is audited
