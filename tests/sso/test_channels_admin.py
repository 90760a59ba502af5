"""Partner channels in the back office: registered by staff, key material checked, the ticket
key encrypted at rest and write-only, every change audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from shebao.audit.models import AuditEvent
from shebao.common import partner_crypto
from shebao.sso.models import PartnerChannel
from tests.audit.factories import account_create
from tests.sso.factories import partner_create
from tests.staff import verified_client

pytestmark = pytest.mark.django_db


def _form(public: str, key: str, **over) -> dict:
    return {"identifier": "etax", "name": "广西电子税务局", "enabled": "on", "protocol": "ticket", "signature_algorithm": "sm2",
            "public_key": public, "encryption_algorithm": "sm4gcm", "encryption_key": key,
            "allowed_return_urls": "https://etax.example.cn/back", "check_url": "https://etax.example.cn/check", **over}


def test_staff_register_a_channel_its_key_is_encrypted_at_rest_and_the_change_audited(client):
    verified_client(account_create(is_superuser=True), client)
    _, public = partner_crypto.partner_keypair("sm2")
    key = partner_crypto.new_encryption_key("sm4gcm")

    response = client.post(reverse("admin:sso_partnerchannel_add"), _form(public, key))

    assert response.status_code == 302
    channel = PartnerChannel.objects.get(identifier="etax")
    assert channel.encryption_key == key
    with connection.cursor() as cursor:
        cursor.execute("SELECT encryption_key FROM sso_partnerchannel")
        stored = cursor.fetchone()[0]
    assert key not in stored and stored.startswith("v2:")
    event = AuditEvent.objects.get(action="sso.channel.change")
    assert event.subject_ref == channel.public_id
    assert event.changes["encryption_key"] == {"old": "", "new": "〔已设置〕"}
    assert event.changes["identifier"] == {"old": None, "new": "etax"}


def test_the_key_is_never_shown_and_blank_keeps_it(client, clock):
    partner = partner_create(identifier="bank", now=clock())
    key = partner.channel.encryption_key
    verified_client(account_create(is_superuser=True), client)
    url = reverse("admin:sso_partnerchannel_change", args=[partner.channel.pk])

    page = client.get(url).content.decode()
    response = client.post(url, _form(partner.channel.public_key, "", identifier="bank", name="测试渠道", enabled="",
                                      check_url=partner.channel.check_url))

    assert key not in page
    assert response.status_code == 302
    channel = PartnerChannel.objects.get(pk=partner.channel.pk)
    assert (channel.enabled, channel.encryption_key) == (False, key)
    event = AuditEvent.objects.filter(action="sso.channel.change").latest("pk")
    assert event.changes == {"enabled": {"old": True, "new": False}}


@pytest.mark.parametrize(("field", "value"), [("public_key", "04abcd"), ("encryption_key", "00" * 15)])
def test_malformed_key_material_is_refused_and_nothing_saved(client, field, value):
    verified_client(account_create(is_superuser=True), client)
    _, public = partner_crypto.partner_keypair("sm2")
    form = _form(public, partner_crypto.new_encryption_key("sm4gcm"), **{field: value})

    response = client.post(reverse("admin:sso_partnerchannel_add"), form)

    assert response.status_code == 200
    assert PartnerChannel.objects.count() == 0
    assert AuditEvent.objects.filter(action="sso.channel.change").count() == 0


def test_the_system_administrator_role_registers_channels_and_the_auditor_does_not(client):
    from django.contrib.auth.models import Group

    from shebao.common.roles import ensure_roles

    ensure_roles()
    admin_staff, auditor = account_create(is_staff=True), account_create(is_staff=True)
    admin_staff.groups.add(Group.objects.get(name="系统管理员"))
    auditor.groups.add(Group.objects.get(name="审计员"))
    url = reverse("admin:sso_partnerchannel_add")

    assert verified_client(admin_staff).get(url).status_code == 200
    assert verified_client(auditor).get(url).status_code == 403
