"""Back office views of the embedded core: reference data (editable by staff)
and tax receipts (read-only; no personal data in lists)."""

from django.contrib import admin

from shebao.common.admin_base import ReadOnlyAdmin
from shebao.core.models import Agency, City, InsuranceType, TaxOffice, TaxReceipt


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ("division_code", "name", "is_region_level")


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city")
    list_filter = ("city",)


@admin.register(TaxOffice)
class TaxOfficeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city")
    list_filter = ("city",)


@admin.register(InsuranceType)
class InsuranceTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "person_type", "collection_item", "collection_subitem", "default_rate")


@admin.register(TaxReceipt)
class TaxReceiptAdmin(ReadOnlyAdmin):
    list_display = ("receipt_no", "channel", "bank_serial_no", "amount", "paid_at", "state", "remitted_at", "in_treasury_at")
    list_filter = ("state", "channel")
    search_fields = ("receipt_no", "bank_serial_no")
    exclude = ("payer",)
