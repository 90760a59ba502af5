"""The archive admin: read-only; the decrypted snapshot only for superusers,
and every such read is in the audit log (DESIGN "every read of personal data
by staff ... is in an audit log")."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from shebao.audit.models import AuditEvent
from tests import actors
from tests.archive.factories import ID_NUMBER, MOBILE
from tests.audit.factories import account_create
from tests.staff import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer():
    staff = account_create(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_archiverecord"))
    return staff


def test_changelist_lists_records_without_personal_data(client, viewer, three_records):
    verified_client(viewer, client)

    response = client.get(reverse("admin:archive_archiverecord_changelist"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "reg-1" in body and three_records[0].digest[:12] in body
    assert ID_NUMBER not in body and MOBILE not in body
    assert AuditEvent.objects.count() == 0


def test_staff_detail_hides_the_snapshot_and_writes_no_audit_event(client, viewer, three_records):
    verified_client(viewer, client)

    response = client.get(reverse("admin:archive_archiverecord_change", args=[three_records[0].pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert three_records[0].chain_hash in body
    assert ID_NUMBER not in body and "业务数据（解密）" not in body
    assert AuditEvent.objects.count() == 0


def test_superuser_detail_shows_the_snapshot_and_is_audited(client, three_records):
    superuser = account_create(is_superuser=True)
    verified_client(superuser, client)
    record = three_records[1]

    response = client.get(reverse("admin:archive_archiverecord_change", args=[record.pk]), HTTP_X_REQUEST_ID="req-admin-0001")

    assert response.status_code == 200
    assert ID_NUMBER in response.content.decode()
    event = AuditEvent.objects.get()
    assert (event.actor, event.actor_kind, event.action) == (superuser, "staff", "staff.view_personal_data")
    assert (event.subject_type, event.subject_ref, event.outcome) == ("archive_record", record.public_id, "success")
    assert event.request_id == "req-admin-0001"
    assert event.ip == "127.0.0.0"


def test_no_add_change_or_delete_even_for_a_superuser(client, three_records):
    verified_client(account_create(is_superuser=True), client)
    record = three_records[0]

    assert client.get(reverse("admin:archive_archiverecord_add")).status_code == 403
    assert client.post(reverse("admin:archive_archiverecord_delete", args=[record.pk]), {"post": "yes"}).status_code == 403
    response = client.post(reverse("admin:archive_archiverecord_change", args=[record.pk]), {"business_ref": "forged"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.business_ref == "reg-1"


@pytest.mark.parametrize("model", ["archive_archiveseal", "audit_auditseal"])
def test_seals_are_listed_read_only_even_for_a_superuser(client, three_records, model):
    from shebao.audit.services import audit_record
    from tests.audit.factories import FROZEN_NOW, seal_all

    audit_record(actor=actors.visitor(), action="account.login.failed", outcome="failure", now=FROZEN_NOW)
    seal_all()
    verified_client(account_create(is_superuser=True), client)

    listing = client.get(reverse(f"admin:{model}_changelist"))

    assert listing.status_code == 200 and len(listing.context["cl"].result_list) == 1
    assert client.get(reverse(f"admin:{model}_add")).status_code == 403
    seal = listing.context["cl"].result_list[0]
    assert client.post(reverse(f"admin:{model}_delete", args=[seal.pk]), {"post": "yes"}).status_code == 403
