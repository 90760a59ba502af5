"""Back office for contribution rules (REQUIREMENTS §2.1: staff maintain the
rules without a code change, with history).

Staff rule (also shown on every page): a saved rule is never edited or
deleted, because declarations record the rule rows they used. To change a
rule, open it and follow "复制为新版本" (or use the list action of that name):
the add form comes prefilled, staff set the new 生效日期, and saving closes the
old version's window on that date. The admin is thin: the form asks
``services.rule_validate``, ``save_model`` calls ``rule_save`` /
``rule_new_version``, which write the audit event.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from shebao.common import clock
from shebao.common.actor import request_actor
from shebao.rules.models import ContributionRule
from shebao.rules.services import rule_new_version, rule_save, rule_validate

COPY_FROM = "copy_from"
STAFF_RULE = "已保存的缴费规则不能修改或删除（申报记录了所用的规则）。如需调整，请“复制为新版本”并填写新版本的生效日期，原版本将在该日失效。"
_SPLIT = re.compile(r"[,，、\s]+")


class ContributionRuleForm(forms.ModelForm):
    """Grades and assessed groups as plain text for staff; the service decides."""

    grades = forms.CharField(
        label="缴费档次", required=False, help_text="金额（元），用逗号或空格分隔，如：3153.90, 4000, 5256.50"
    )
    assessed_groups = forms.CharField(
        label="社保核定人群",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一个人群名称，如：达到法定退休年龄人员",
    )
    replacing: ContributionRule | None = None

    class Meta:
        model = ContributionRule
        fields = (
            "city", "contribution_year", "insurance_type", "valid_from", "valid_to", "calculation", "declaration_mode",
            "assessed_groups", "min_base", "max_base", "grades", "rate", "collection_opens_on", "collection_closes_on",
            "base_published_on", "base_expected_on", "pay_only_up_to_current_month_until_published", "policy_ref",
            "source_note", "approved_by",
        )  # fmt: skip

    def clean_grades(self) -> list[str]:
        parts = [p for p in _SPLIT.split(self.cleaned_data.get("grades") or "") if p]
        try:
            return [str(Decimal(p)) for p in parts]
        except InvalidOperation as exc:
            raise ValidationError("缴费档次应为金额，用逗号或空格分隔") from exc

    def clean_assessed_groups(self) -> list[str]:
        return [line.strip() for line in (self.cleaned_data.get("assessed_groups") or "").splitlines() if line.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        names = [f.name for f in ContributionRule._meta.concrete_fields if f.name in cleaned]
        candidate = ContributionRule(**{name: cleaned[name] for name in names}, supersedes=self.replacing)
        try:
            rule_validate(rule=candidate, replacing=self.replacing)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else NON_FIELD_ERRORS, errors)
        return cleaned


def _as_text(values: list[Any] | None, sep: str) -> str:
    return sep.join(str(v) for v in values or [])


@admin.register(ContributionRule)
class ContributionRuleAdmin(admin.ModelAdmin):
    form = ContributionRuleForm
    list_display = (
        "city", "contribution_year", "insurance_type", "declaration_mode", "min_base", "max_base", "rate",
        "collection_opens_on", "collection_closes_on", "valid_from", "valid_to", "policy_ref",
    )  # fmt: skip
    list_filter = ("city", "contribution_year", "insurance_type", "declaration_mode", "calculation")
    list_select_related = ("city", "insurance_type")
    search_fields = ("policy_ref",)
    actions = ("copy_as_new_version",)

    # -- read-only history: no edit, no delete --------------------------------
    def has_change_permission(self, request: HttpRequest, obj: ContributionRule | None = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: ContributionRule | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: ContributionRule | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("new_version_link", *[f.name for f in ContributionRule._meta.concrete_fields if f.name != "id"])

    def get_fields(self, request: HttpRequest, obj: ContributionRule | None = None) -> list[str]:
        if obj is None:
            return list(super().get_fields(request, obj))
        return list(self.get_readonly_fields(request, obj))

    @admin.display(description="调整规则")
    def new_version_link(self, obj: ContributionRule) -> str:
        url = f"{reverse('admin:rules_contributionrule_add')}?{COPY_FROM}={obj.pk}"
        return format_html('<a class="button" href="{}">复制为新版本</a>　{}', url, STAFF_RULE)

    @admin.action(description="复制为新版本", permissions=["add"])
    def copy_as_new_version(self, request: HttpRequest, queryset: QuerySet[ContributionRule]) -> HttpResponseRedirect | None:
        if queryset.count() != 1:
            self.message_user(request, "请只选择一条规则复制为新版本", level=messages.WARNING)
            return None
        return HttpResponseRedirect(f"{reverse('admin:rules_contributionrule_add')}?{COPY_FROM}={queryset.get().pk}")

    # -- add: a new rule, or a new version of the rule named by ?copy_from= ---
    def _copy_source(self, request: HttpRequest) -> ContributionRule | None:
        pk = request.GET.get(COPY_FROM, "")
        return ContributionRule.objects.filter(pk=pk).first() if pk.isdigit() else None

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        source = self._copy_source(request)
        if source is None:
            return super().get_changeform_initial_data(request)
        skip = {"id", "valid_from", "valid_to", "supersedes", "created_at", "approved_by"}
        initial = {f.name: f.value_from_object(source) for f in ContributionRule._meta.concrete_fields if f.name not in skip}
        initial["grades"] = _as_text(source.grades, ", ")
        initial["assessed_groups"] = _as_text(source.assessed_groups, "\n")
        return initial

    def get_form(self, request: HttpRequest, obj: ContributionRule | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form = type(form.__name__, (form,), {"replacing": self._copy_source(request)})
        return form

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any):
        source = self._copy_source(request) if kwargs.get("add") else None
        context["subtitle"] = f"新版本，取代：{source}" if source else STAFF_RULE
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: ContributionRule, form: forms.ModelForm, change: bool) -> None:
        source = self._copy_source(request)
        if source is not None:
            rule_new_version(previous=source, rule=obj, actor=request_actor(request), now=clock.now())
        else:
            rule_save(rule=obj, actor=request_actor(request), now=clock.now())
