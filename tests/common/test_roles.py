"""Staff roles (issue 12): groups in place after migrate with their permissions; each role
reaches its own pages and gets 403 (audited) elsewhere; the auditor verifies the logs'
hash chains from the console."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from shebao.audit.models import AuditEvent
from shebao.common.roles import ROLES, ensure_roles
from tests.audit.factories import account_create
from tests.staff import verified_client

pytestmark = pytest.mark.django_db


def _staff(role: str):
    user = account_create(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_every_role_is_in_place_with_its_permissions_after_migrate():
    ensure_roles()
    ensure_roles()  # idempotent
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)
    auditor = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="审计员").permissions.all()}
    assert auditor == {"audit.view_auditevent", "audit.view_auditseal", "archive.view_archiverecord", "archive.view_archiveseal"}
    rules = {p.codename for p in Group.objects.get(name="规则维护").permissions.all()}
    assert {"change_contributionrule", "add_norefundperson"} <= rules and "view_auditevent" not in rules
    assert not any(p.codename.startswith(("add_account", "change_account")) for g in Group.objects.all() for p in g.permissions.all())


def test_a_rule_maintainer_reaches_the_rules_and_is_refused_the_audit_log(demo_people):
    client = verified_client(_staff("规则维护"))
    assert client.get("/admin/rules/contributionrule/").status_code == 200
    assert client.get("/admin/core/norefundperson/").status_code == 200
    assert client.get("/admin/audit/auditevent/").status_code == 403
    assert client.get("/admin/archive/archiverecord/").status_code == 403
    denied = AuditEvent.objects.filter(action="staff.denied", outcome="failure")
    assert denied.count() == 2 and {e.subject_ref for e in denied} == {"/admin/audit/auditevent/", "/admin/archive/archiverecord/"}


def test_the_auditor_reads_the_audit_log_and_verifies_the_chains_from_the_console(demo_people):
    user = _staff("审计员")
    client = verified_client(user)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get("/admin/rules/contributionrule/").status_code == 403
    page = client.post("/admin/archive/archiverecord/verify/", follow=True).content.decode()
    assert "资料归档校验通过" in page and "审计日志校验通过" in page
    assert AuditEvent.objects.filter(action="staff.verify_log", actor_id=user.pk).count() == 2


def test_no_role_edits_roles_or_reads_an_authenticators_secret(settings):
    ensure_roles()
    granted = {p.codename for g in Group.objects.all() for p in g.permissions.all()}
    assert not granted & {"change_group", "add_group", "add_totpdevice", "change_totpdevice"}
    assert settings.OTP_ADMIN_HIDE_SENSITIVE_DATA is True
