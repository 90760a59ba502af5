"""Staff roles of the back office (issue "Notices, manual and back office"): Django groups
whose permissions say what each role may see and do. Kept in code and put in place after
every ``migrate`` (``post_migrate``), so a deployment never drifts from this list; a
permission of an app not installed (yet) is left out.

No role carries a bulk export of personal data: the back office has no export action, and
personal data shows masked (the archive's snapshot only to superusers, audited)."""

from __future__ import annotations

ROLES: dict[str, tuple[str, ...]] = {
    "公告编辑": (  # notices are withdrawn, never deleted
        "notices.add_notice", "notices.change_notice", "notices.view_notice",
        "notices.add_noticecategory", "notices.change_noticecategory", "notices.view_noticecategory",
    ),
    "规则维护": (
        "rules.add_contributionrule", "rules.change_contributionrule", "rules.view_contributionrule",
        "core.add_norefundperson", "core.change_norefundperson", "core.view_norefundperson", "core.delete_norefundperson",
        "reference.view_city", "reference.view_insurancetype",
    ),
    "批扣操作员": (
        "django_tasks_db.view_dbtaskresult", "jobs.view_periodicrun", "fees.view_paymentorder", "fees.view_paymentrefund",
        "refunds.view_refundapplication",
        "core.view_virtualaccount",
        "agreements.add_batchdeductiontask", "agreements.view_batchdeductiontask", "agreements.view_batchdeductionitem",
    ),
    "审计员": (
        "audit.view_auditevent", "audit.view_auditseal", "archive.view_archiverecord", "archive.view_archiveseal",
    ),
    "系统管理员": (
        "auth.view_group", "django_tasks_db.view_dbtaskresult", "django_tasks_db.change_dbtaskresult",
        "jobs.view_periodicrun", "jobs.view_workerheartbeat", "audit.view_auditevent", "archive.view_archiverecord",
        "otp_totp.view_totpdevice", "otp_totp.delete_totpdevice",
        "sso.view_partnerchannel", "sso.add_partnerchannel", "sso.change_partnerchannel", "sso.view_ssologin",
    ),
}


def ensure_roles(**_kwargs) -> None:
    """Create or update every role's group to exactly its permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = [p for p in (_permission(Permission, label) for label in wanted) if p is not None]
        group.permissions.set(perms)


def _permission(model, label: str):
    app_label, codename = label.split(".", 1)
    return model.objects.filter(content_type__app_label=app_label, codename=codename).first()
