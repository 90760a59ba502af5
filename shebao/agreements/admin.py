"""Back office of the batch deduction (批量扣款): launching a task (the add form, in Chinese;
the service writes and audits), the tasks with their reconciliation report (counts and sums
by outcome), the pending list's items read-only (no account numbers: the agreement number
only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from shebao.agreements import batch_services
from shebao.agreements.batch_models import BatchDeductionItem, BatchDeductionTask
from shebao.common import clock
from shebao.common.actor import request_actor
from shebao.common.admin_base import ReadOnlyAdmin


def _cities():
    from shebao.reference.models import City

    return [("", "请选择")] + [(c.division_code, f"{c.name}（{c.division_code}）") for c in City.objects.order_by("division_code")]


def _resident_types():
    from shebao.reference.models import InsuranceType, PersonType

    return [("", "请选择")] + [(t.code, t.name) for t in InsuranceType.objects.filter(person_type=PersonType.RESIDENT).order_by("code")]


class BatchTaskForm(forms.ModelForm):
    """发起批量扣款任务: insurance type, contribution year, city, deduction date."""

    insurance_type_code = forms.ChoiceField(label="险种", choices=())
    city_code = forms.ChoiceField(label="地市", choices=())
    contribution_year = forms.IntegerField(label="缴费年度", min_value=2000, max_value=2100)
    deduction_on = forms.DateField(label="扣款日期", help_text="格式：2026-12-20；扣款日前3天短信提醒缴费人")

    class Meta:
        model = BatchDeductionTask
        fields = ("insurance_type_code", "contribution_year", "city_code", "deduction_on")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["insurance_type_code"].choices = _resident_types()
        self.fields["city_code"].choices = _cities()

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                batch_services.batch_task_check(now=clock.now(), **{k: data[k] for k in self.Meta.fields})
            except batch_services.BatchError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(BatchDeductionTask)
class BatchDeductionTaskAdmin(admin.ModelAdmin):
    list_display = ("__str__", "state", "item_count", "total_amount", "deduction_on", "created_at", "finished_at")
    list_filter = ("state", "insurance_type", "city_name")
    readonly_fields = ("public_id", "insurance_type", "contribution_year", "city_name", "deduction_on", "state", "item_count",
                       "chunk_count", "total_amount", "failure_reason", "created_by", "created_at", "built_at", "started_at",
                       "reminded_at", "finished_at", "reconciliation")
    form = BatchTaskForm

    def get_fields(self, request, obj=None):
        return BatchTaskForm.Meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """The service creates the task (audited, its list built by a job)."""
        task = batch_services.batch_task_create(actor=request_actor(request), now=clock.now(), **{
            k: form.cleaned_data[k] for k in BatchTaskForm.Meta.fields})
        obj.pk, obj.public_id, obj.insurance_type, obj.city_name = task.pk, task.public_id, task.insurance_type, task.city_name
        obj._state.adding = False

    @admin.display(description="对账报告")
    def reconciliation(self, obj):
        rows = batch_services.batch_report(obj)
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", ((label, n, f"{amount:.2f}") for label, n, amount in rows))
        return format_html('<table class="batch-report"><thead><tr><th>结果</th><th>人数</th><th>金额（元）</th></tr></thead>'
                           "<tbody>{}</tbody></table>", body)


@admin.register(BatchDeductionItem)
class BatchDeductionItemAdmin(ReadOnlyAdmin):
    list_display = ("registration_no", "task", "amount", "state", "failure_reason", "tax_receipt_no", "finished_at")
    list_filter = ("state",)
    search_fields = ("registration_no", "agreement_no", "tax_receipt_no")
    fields = ("task", "chunk_no", "registration_no", "insurance_type_code", "contribution_year", "agreement_kind", "agreement_no",
              "amount", "state", "failure_reason", "declaration_no", "bank_ref", "tax_receipt_no", "finished_at")
