"""Back-office view of the archive: read-only (the archive is append-only).

The list never shows the snapshot. The detail view shows the decrypted
snapshot to superusers only, and each such read is written to the audit log
(DESIGN "every read of personal data by staff ... is in an audit log")."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse
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
