"""Declaration form: parse the person's choices (strict ASCII numbers, no float)."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms

from shebao.common.validators import validate_sms_code

_MONEY = re.compile(r"\A[0-9]{1,9}(\.[0-9]{1,2})?\Z")
_PERIOD = re.compile(r"\A[0-9]{4}-?(0[1-9]|1[0-2])\Z")


def parse_money(value: str, *, label: str) -> Decimal:
    value = (value or "").strip()
    if not _MONEY.match(value):
        raise forms.ValidationError(f"{label}应为金额，如 4371 或 4371.00（使用半角数字）")
    return Decimal(value).quantize(Decimal("0.01"))


class DeclareForm(forms.Form):
    insurance_types = forms.MultipleChoiceField(label="险种", widget=forms.CheckboxSelectMultiple,
                                                error_messages={"required": "请至少选择一个险种"})
    contribution_year = forms.TypedChoiceField(label="缴费年度", coerce=int, widget=forms.Select(attrs={"class": "weui-select"}))
    period_from = forms.ChoiceField(label="费款所属期起", required=False, widget=forms.Select(attrs={"class": "weui-select"}))
    period_to = forms.ChoiceField(label="费款所属期止", required=False, widget=forms.Select(attrs={"class": "weui-select"}))
    base = forms.CharField(label="缴费基数（元/月）", required=False, max_length=16,
                           widget=forms.TextInput(attrs={"class": "weui-input", "inputmode": "decimal", "list": "base-grades",
                                                                         "placeholder": "请输入或选择，如 4371.00", "autocomplete": "off"}))
    grade = forms.ChoiceField(label="缴费档次（元/年）", required=False, widget=forms.Select(attrs={"class": "weui-select"}))
    sms_code = forms.CharField(label="短信验证码", required=False, max_length=10,
                               widget=forms.TextInput(attrs={"class": "weui-input", "inputmode": "numeric", "autocomplete": "one-time-code",
                                                             "placeholder": "6位数字"}))
    idem = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, type_choices, year_choices, period_choices, grade_choices, base_hint=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["insurance_types"].choices = type_choices
        self.fields["contribution_year"].choices = year_choices
        self.fields["period_from"].choices = period_choices
        self.fields["period_to"].choices = period_choices
        self.fields["grade"].choices = [("", "请选择档次")] + grade_choices
        if base_hint:
            self.fields["base"].widget.attrs["placeholder"] = f"请输入或选择，如 {base_hint}"

    def clean_base(self):
        raw = self.cleaned_data.get("base", "")
        return parse_money(raw, label="缴费基数") if raw.strip() else None

    def clean_grade(self):
        raw = self.cleaned_data.get("grade", "")
        return parse_money(raw, label="缴费档次") if raw else None

    def clean_sms_code(self):
        raw = self.cleaned_data.get("sms_code", "")
        return validate_sms_code(raw) if raw else ""

    def clean(self):
        data = super().clean()
        for key in ("period_from", "period_to"):
            if data.get(key) and not _PERIOD.match(data[key]):
                self.add_error(key, "费款所属期格式不正确")
        return data
