"""Back office: refund applications, read-only, the account shown masked."""

from django.contrib import admin

from shebao.common.admin_base import ReadOnlyAdmin
from shebao.refunds.models import RefundApplication


@admin.register(RefundApplication)
class RefundApplicationAdmin(ReadOnlyAdmin):
    list_display = ("application_no", "kind", "insurance_type", "period", "amount", "bank_name", "account_masked", "state", "accepted_at",
                    "virtual_account_id", "sheet_no")
    list_filter = ("state", "kind")
    search_fields = ("application_no", "core_refund_no", "sheet_no", "virtual_account_id")
    exclude = ("account", "account_number", "holder_name", "idempotency_key")
