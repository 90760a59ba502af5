"""The refund application form: the item, and the payer's own bank account."""

from __future__ import annotations

from django import forms

from shebao.reference.banks import BANKS


class NormalRefundForm(forms.Form):
    item = forms.ChoiceField(label="退费项目", widget=forms.RadioSelect, error_messages={"required": "请选择要退费的险种和所属期"})
    bank_code = forms.ChoiceField(label="开户银行", widget=forms.Select(attrs={"class": "weui-select"}),
                                  error_messages={"required": "请选择开户银行", "invalid_choice": "请选择开户银行"})
    account_number = forms.CharField(label="银行账号", max_length=32, error_messages={"required": "请输入银行账号"},
                                     widget=forms.TextInput(attrs={"class": "weui-input", "inputmode": "numeric", "autocomplete": "off",
                                                                   "placeholder": "本人银行卡号或存折账号"}))
    holder_name = forms.CharField(label="账户名称", max_length=64, error_messages={"required": "请输入账户名称"},
                                  widget=forms.TextInput(attrs={"class": "weui-input", "autocomplete": "name"}))
    idem = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, item_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = item_choices
        self.fields["bank_code"].choices = [("", "请选择开户银行")] + [(b.code, b.name) for b in BANKS]

    def clean_account_number(self) -> str:
        return self.cleaned_data["account_number"].replace(" ", "")
