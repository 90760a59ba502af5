"""Back office views of the embedded core: agencies and tax offices (editable by
staff) and tax receipts (read-only; no personal data in lists)."""

from django.contrib import admin

from shebao.common.admin_base import ReadOnlyAdmin
from shebao.core.models import Agency, TaxOffice, TaxReceipt


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city")
    list_filter = ("city",)


@admin.register(TaxOffice)
class TaxOfficeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city")
    list_filter = ("city",)


@admin.register(TaxReceipt)
class TaxReceiptAdmin(ReadOnlyAdmin):
    list_display = ("receipt_no", "channel", "bank_serial_no", "amount", "paid_at", "state", "remitted_at", "in_treasury_at")
    list_filter = ("state", "channel")
    search_fields = ("receipt_no", "bank_serial_no")
    exclude = ("payer",)
