"""Back-office view of the audit log: read-only, filterable by action, actor
kind, outcome and date (等保 2.0 level 3: audit records are protected and
can be reviewed). Its values are already masked, so no extra gate is needed."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from shebao.archive.admin import SealAdmin
from shebao.audit.models import AuditEvent, AuditSeal

_FIELDS = (
    "seq",
    "created_at",
    "actor",
    "actor_kind",
    "action",
    "subject_type",
    "subject_ref",
    "outcome",
    "changes",
    "ip",
    "request_id",
    "digest_algorithm",
    "prev_hash",
    "chain_hash",
)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("seq", "created_at", "actor", "actor_kind", "action", "outcome", "subject_type", "subject_ref", "ip", "request_id")
    list_filter = ("action", "actor_kind", "outcome", "created_at")
    list_select_related = ("actor",)
    search_fields = ("=subject_ref", "=request_id", "action")
    ordering = ("-id",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = _FIELDS
    readonly_fields = _FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False


admin.site.register(AuditSeal, SealAdmin)
