"""Back office: refund applications, read-only, the account shown masked; opening one is audited."""

from django.contrib import admin

from shebao.audit.admin_views import AuditedDetailMixin
from shebao.common.admin_base import ReadOnlyAdmin
from shebao.refunds.models import RefundApplication


@admin.register(RefundApplication)
class RefundApplicationAdmin(AuditedDetailMixin, ReadOnlyAdmin):
    audit_subject_type = "refund_application"
    list_display = ("application_no", "kind", "insurance_type", "period", "amount", "bank_name", "account_masked", "state", "accepted_at",
                    "virtual_account_id", "sheet_no")
    list_filter = ("state", "kind")
    search_fields = ("application_no", "core_refund_no", "sheet_no", "virtual_account_id")
    exclude = ("account", "account_number", "holder_name", "idempotency_key")
