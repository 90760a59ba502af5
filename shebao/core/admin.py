"""Back office views of the embedded core: agencies and tax offices (editable by
staff) and tax receipts (read-only; no personal data in lists)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from shebao.common import clock
from shebao.common.admin_base import ReadOnlyAdmin
from shebao.common.masking import mask_id_number, mask_name
from shebao.common.validators import validate_id_number
from shebao.core.models import Agency, NoRefundPerson, RefundSheet, TaxOffice, TaxReceipt, VirtualAccount


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


class NoRefundPersonForm(forms.ModelForm):
    """Staff enter the document and the name; the blind index and the row id are made here."""

    id_number = forms.CharField(label="证件号码", max_length=32)
    name = forms.CharField(label="姓名", max_length=64)

    class Meta:
        model = NoRefundPerson
        fields = ("city", "id_type", "id_number", "name", "reason")

    def clean(self):
        data = super().clean()
        if data.get("id_type") and data.get("id_number"):
            try:
                data["id_number"] = validate_id_number(data["id_type"], data["id_number"], today=clock.today())
            except ValidationError as exc:
                self.add_error("id_number", exc)
        return data


@admin.register(NoRefundPerson)
class NoRefundPersonAdmin(admin.ModelAdmin):
    """The locality's no-refund special-person list (不予退费特殊人员名单): kept by staff,
    shown masked; the core refuses every refund of a person on it."""

    form = NoRefundPersonForm
    list_display = ("masked_name", "masked_id", "city", "reason", "added_at")
    list_filter = ("city",)
    actions = None  # no bulk actions on personal data

    @admin.display(description="姓名")
    def masked_name(self, obj):
        return mask_name(obj.name)

    @admin.display(description="证件号码")
    def masked_id(self, obj):
        return mask_id_number(obj.id_number)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:  # the stored number is shown masked, never in the form
            form.base_fields["id_number"].initial = ""
        return form

    def save_model(self, request, obj, form, change):
        from shebao.common import crypto
        from shebao.common.identity import identity_index

        if not obj.public_id:
            obj.public_id = crypto.random_token(12)
        obj.id_index = identity_index(id_type=obj.id_type, id_number=form.cleaned_data["id_number"])
        obj.id_number, obj.name = form.cleaned_data["id_number"], form.cleaned_data["name"]
        if obj.added_at is None:
            obj.added_at = clock.now()
        super().save_model(request, obj, form, change)


@admin.register(VirtualAccount)
class VirtualAccountAdmin(admin.ModelAdmin):
    """Virtual accounts (虚拟户): village committees, communities and schools collecting fees."""

    list_display = ("identifier", "name", "kind", "city")
    list_filter = ("kind", "city")
    search_fields = ("identifier", "name")
    actions = None


@admin.register(RefundSheet)
class RefundSheetAdmin(ReadOnlyAdmin):
    """Refund assessment sheets (核定退费单) issued by social security (the real core's;
    the embedded core's come with its data), read-only here; the payer is left out."""

    list_display = ("sheet_no", "agency", "insurance_type", "period", "paid_amount", "amount", "assessed_on", "handler")
    list_filter = ("agency", "insurance_type")
    search_fields = ("sheet_no",)
    exclude = ("payer",)
