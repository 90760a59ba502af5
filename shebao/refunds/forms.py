"""Refund forms: the item, the payer's own bank account, the virtual account, and every field
of a refund assessment sheet (核定退费单). Bad input gets a Chinese message; nothing is stored."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django import forms

from shebao.common import clock
from shebao.reference.banks import BANKS
from shebao.reference.selectors import insurance_type_names
from shebao.rules.periods import FeePeriod

VIRTUAL_ACCOUNT_RE = re.compile(r"XN\d{18}")
SHEET_NO_RE = re.compile(r"HD\d{14}")
MAX_AMOUNT = Decimal("999999.99")


def _text(label: str, max_length: int, *, required: str, **attrs) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, error_messages={"required": required,
                                                                               "max_length": f"{label}不超过{max_length}个字"},
                           widget=forms.TextInput(attrs={"class": "weui-input", "autocomplete": "off", **attrs}))


def parse_amount(raw: str, label: str) -> Decimal:
    """A yuan amount as people write it: positive, at most two decimals, within reason."""
    text = (raw or "").strip().replace(",", "").replace("，", "")
    if not text:
        raise forms.ValidationError(f"请输入{label}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise forms.ValidationError(f"{label}请填写数字，如 300.00") from None
    if not value.is_finite():
        raise forms.ValidationError(f"{label}请填写数字，如 300.00")
    if value <= 0:
        raise forms.ValidationError(f"{label}须大于0")
    if value != value.quantize(Decimal("0.01")):
        raise forms.ValidationError(f"{label}最多保留两位小数（精确到分）")
    if value > MAX_AMOUNT:
        raise forms.ValidationError(f"{label}过大，请核对")
    return value.quantize(Decimal("0.01"))


class RefundAccountForm(forms.Form):
    """Where the money goes: the payer's own bank account."""

    bank_code = forms.ChoiceField(label="开户银行", widget=forms.Select(attrs={"class": "weui-select"}),
                                  error_messages={"required": "请选择开户银行", "invalid_choice": "请选择开户银行"})
    account_number = forms.CharField(label="银行账号", max_length=32, error_messages={"required": "请输入银行账号"},
                                     widget=forms.TextInput(attrs={"class": "weui-input", "inputmode": "numeric", "autocomplete": "off",
                                                                   "placeholder": "本人银行卡号或存折账号"}))
    holder_name = forms.CharField(label="账户名称", max_length=64, error_messages={"required": "请输入账户名称"},
                                  widget=forms.TextInput(attrs={"class": "weui-input", "autocomplete": "name"}))
    idem = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_code"].choices = [("", "请选择开户银行")] + [(b.code, b.name) for b in BANKS]

    def clean_account_number(self) -> str:
        return self.cleaned_data["account_number"].replace(" ", "")


class NormalRefundForm(RefundAccountForm):
    item = forms.ChoiceField(label="退费项目", widget=forms.RadioSelect, error_messages={"required": "请选择要退费的险种和所属期",
                                                                                    "invalid_choice": "请选择要退费的险种和所属期"})
    va_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=20)

    def __init__(self, *args, item_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = item_choices


def clean_virtual_account_id(raw: str) -> str:
    """A 虚拟户识别号 as typed: spaces dropped, upper case, XN and 18 digits."""
    text = (raw or "").replace(" ", "").upper()
    if not text:
        raise forms.ValidationError("请录入虚拟户识别号，或按虚拟户名称查找")
    if not VIRTUAL_ACCOUNT_RE.fullmatch(text):
        raise forms.ValidationError("虚拟户识别号为“XN”加18位数字，请核对后重新录入")
    return text


class SheetForm(RefundAccountForm):
    """Every field of a refund assessment sheet (核定退费单), as on the paper."""

    sheet_no = _text("核定退费单号", 16, required="请输入核定退费单号", placeholder="HD开头，共16位")
    agency = _text("社保经办机构", 60, required="请输入核定退费单上的社保经办机构")
    insurance_type_code = forms.ChoiceField(label="险种", widget=forms.Select(attrs={"class": "weui-select"}),
                                            error_messages={"required": "请选择险种", "invalid_choice": "请选择险种"})
    period = forms.CharField(label="费款所属期", max_length=7, error_messages={"required": "请选择费款所属期"},
                             widget=forms.TextInput(attrs={"class": "weui-input", "type": "month"}))
    paid_amount = _text("已缴金额（元）", 14, required="请输入已缴金额", inputmode="decimal")
    amount = _text("核定退费金额（元）", 14, required="请输入核定退费金额", inputmode="decimal")
    reason = _text("退费原因", 100, required="请输入退费原因")
    assessed_on = forms.DateField(label="核定日期", error_messages={"required": "请选择核定日期", "invalid": "核定日期格式不正确"},
                                  widget=forms.DateInput(attrs={"class": "weui-input", "type": "date"}))
    handler = _text("经办人", 32, required="请输入经办人")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["insurance_type_code"].choices = [("", "请选择险种")] + sorted(insurance_type_names().items())

    def clean_sheet_no(self) -> str:
        text = self.cleaned_data["sheet_no"].replace(" ", "").upper()
        if not SHEET_NO_RE.fullmatch(text):
            raise forms.ValidationError("核定退费单号为“HD”加14位数字，请对照核定退费单核对")
        return text

    def clean_period(self) -> str:
        try:
            period = FeePeriod.parse(self.cleaned_data["period"])
        except ValueError:
            period = None
        if period is None or not 2000 <= period.year <= 2100:
            raise forms.ValidationError("费款所属期格式不正确，如 2025-12")
        return period.yyyymm

    def clean_paid_amount(self) -> Decimal:
        return parse_amount(self.cleaned_data["paid_amount"], "已缴金额")

    def clean_amount(self) -> Decimal:
        return parse_amount(self.cleaned_data["amount"], "核定退费金额")

    def clean(self):
        data = super().clean()
        paid, amount = data.get("paid_amount"), data.get("amount")
        if paid is not None and amount is not None and amount > paid:
            self.add_error("amount", "核定退费金额不能超过已缴金额")
        assessed_on, period = data.get("assessed_on"), data.get("period")
        today = clock.now().date()
        if assessed_on is not None and assessed_on > today:
            self.add_error("assessed_on", "核定日期不能晚于今天")
        if assessed_on is not None and period and assessed_on < dt.date(int(period[:4]), int(period[4:]), 1):
            self.add_error("assessed_on", "核定日期不能早于费款所属期")
        return data
