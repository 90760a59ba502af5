"""Forms of the deduction agreements: what the person types, shaped (spaces dropped); every
business rule is the service's (shebao.agreements.agreement_services)."""

from __future__ import annotations

from django import forms

from shebao.reference.banks import BANKS
from shebao.reference.models import IdType

_INPUT = {"class": "weui-input", "autocomplete": "off"}


class AgreementAccountForm(forms.Form):
    bank_code = forms.ChoiceField(label="开户银行", widget=forms.Select(attrs={"class": "weui-select"}),
                                  error_messages={"required": "请选择开户银行", "invalid_choice": "请选择开户银行"})
    account_number = forms.CharField(label="银行账号", max_length=32, error_messages={"required": "请输入银行账号"},
                                     widget=forms.TextInput(attrs={**_INPUT, "inputmode": "numeric", "placeholder": "本人银行卡号或存折账号"}))
    account_name = forms.CharField(label="账户名称", max_length=64, error_messages={"required": "请输入账户名称"},
                                   widget=forms.TextInput(attrs={**_INPUT, "autocomplete": "name"}))
    sign = forms.BooleanField(label="使用电子签名签署本协议", required=False, widget=forms.CheckboxInput(attrs={"class": "check-input"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_code"].choices = [("", "请选择开户银行")] + [(b.code, b.name) for b in BANKS]

    def clean_account_number(self) -> str:
        return self.cleaned_data["account_number"].replace(" ", "")


class ThreePartyForm(AgreementAccountForm):
    method = forms.ChoiceField(label="验证方式", widget=forms.RadioSelect(attrs={"class": "check-input"}), initial="electronic",
                               choices=[("electronic", "电子验证（银行在线核对账户，立即生效）"),
                                        ("paper", "纸质协议（打印后到银行柜面签约，再回来完成验证）")],
                               error_messages={"required": "请选择验证方式", "invalid_choice": "请选择验证方式"})


class TwoPartyForm(AgreementAccountForm):
    whom = forms.ChoiceField(label="为谁签约", widget=forms.RadioSelect(attrs={"class": "check-input"}), initial="self",
                             choices=[("self", "为本人签约"), ("other", "为他人签约")],
                             error_messages={"required": "请选择为谁签约", "invalid_choice": "请选择为谁签约"})
    other_id_type = forms.ChoiceField(label="证件类型", required=False, widget=forms.Select(attrs={"class": "weui-select"}),
                                      choices=[("", "请选择证件类型"), *IdType.choices])
    other_id_number = forms.CharField(label="证件号码", max_length=32, required=False, widget=forms.TextInput(attrs=_INPUT))
    other_name = forms.CharField(label="姓名", max_length=64, required=False, widget=forms.TextInput(attrs=_INPUT))

    def clean(self):
        data = super().clean()
        if data.get("whom") == "other":
            for name, message in (("other_id_type", "请选择缴费人的证件类型"), ("other_id_number", "请输入缴费人的证件号码"),
                                  ("other_name", "请输入缴费人的姓名")):
                if not data.get(name):
                    self.add_error(name, message)
        return data
