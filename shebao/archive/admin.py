"""Back-office view of the archive: read-only (the archive is append-only).

The list never shows the snapshot. The detail view shows the decrypted
snapshot to superusers only, and each such read is written to the audit log
(DESIGN "every read of personal data by staff ... is in an audit log")."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from shebao.archive.models import ArchiveRecord, ArchiveSeal
from shebao.audit.services import audit_record
from shebao.common import clock
from shebao.common.actor import request_actor
from shebao.common.crypto import DecryptionError

_FIELDS = (
    "seq",
    "public_id",
    "business_type",
    "business_ref",
    "subject_ref",
    "created_at",
    "digest_algorithm",
    "digest",
    "prev_hash",
    "chain_hash",
    "service_signature",
    "payer_signature",
)


@admin.register(ArchiveRecord)
class ArchiveRecordAdmin(admin.ModelAdmin):
    change_list_template = "admin/archive/archiverecord_change_list.html"
    list_display = ("seq", "business_type", "business_ref", "created_at", "digest_prefix")
    list_filter = ("business_type", "created_at")
    search_fields = ("=business_ref", "=subject_ref", "=public_id")
    ordering = ("-id",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest):
        # The snapshot is decrypted only when a superuser's detail view asks for it.
        return super().get_queryset(request).defer("snapshot")

    def get_fields(self, request: HttpRequest, obj: ArchiveRecord | None = None) -> tuple[str, ...]:
        return (*_FIELDS, "decrypted_snapshot") if request.user.is_superuser else _FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: ArchiveRecord | None = None) -> tuple[str, ...]:
        return self.get_fields(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ArchiveRecord | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ArchiveRecord | None = None) -> bool:
        return False

    @admin.display(description="摘要")
    def digest_prefix(self, obj: ArchiveRecord) -> str:
        return f"{obj.digest[:12]}…"

    @admin.display(description="业务数据（解密）")
    def decrypted_snapshot(self, obj: ArchiveRecord) -> str:
        try:
            snapshot = obj.snapshot  # deferred: decrypted here, for this superuser only
        except DecryptionError:
            return "解密失败（请运行 verify_archive）"
        pretty = json.dumps(json.loads(snapshot), ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", pretty)

    def get_urls(self):
        return [path("verify/", self.admin_site.admin_view(self.verify_view), name="archive_verify"), *super().get_urls()]

    def verify_view(self, request: HttpRequest) -> HttpResponse:
        """校验哈希链 from the console (auditors): the archive's and the audit log's digests,
        SM3 chains, Merkle roots and SM2 signatures, as ``verify_archive`` / ``verify_audit``."""
        from shebao.archive.verify import verify_archive
        from shebao.audit.verify import verify_audit

        if request.method != "POST":
            return redirect(reverse("admin:archive_archiverecord_changelist"))
        if not self.has_view_permission(request):
            raise PermissionDenied
        for label, kind, result in (("资料归档", "archive", verify_archive()), ("审计日志", "audit_log", verify_audit())):
            pending = f"，另有 {result.pending} 条等待签名" if result.pending else ""
            if result.ok:
                messages.success(request, f"{label}校验通过：{result.checked} 条{pending}")
            else:
                shown = "；".join(str(p) for p in result.problems[:5])
                messages.error(request, f"{label}校验失败：已检查 {result.checked} 条，发现 {len(result.problems)} 处问题：{shown}")
            audit_record(actor=request_actor(request), action="staff.verify_log", subject_type=kind, outcome="success" if result.ok else "failure",
                         now=clock.now())
        return redirect(reverse("admin:archive_archiverecord_changelist"))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.user.is_superuser and request.method == "GET" and response.status_code == 200:
            record = self.get_object(request, unquote(object_id))
            if record is not None:
                audit_record(
                    actor=request_actor(request),
                    action="staff.view_personal_data",
                    subject_type="archive_record",
                    subject_ref=record.public_id,
                    now=clock.now(),
                )
        return response


_SEAL_FIELDS = ("first_seq", "last_seq", "sealed_at", "merkle_root", "chain_hash", "digest_algorithm", "signature")


class SealAdmin(admin.ModelAdmin):
    """The signed batches of a log: read-only (they are the log's signed heads)."""

    list_display = ("first_seq", "last_seq", "sealed_at")
    ordering = ("-last_seq",)
    show_full_result_count = False
    fields = _SEAL_FIELDS
    readonly_fields = _SEAL_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.register(ArchiveSeal, SealAdmin)
