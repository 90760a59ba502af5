"""Forms parse and validate input with the shared validators; they hold no business rules."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from shebao.common import clock
from shebao.common.validators import (
    NAME_MAX,
    validate_address,
    validate_id_number,
    validate_mobile,
    validate_password,
    validate_person_name,
    validate_sms_code,
)
from shebao.core.models import IdType, PersonType

INPUT = {"class": "weui-input"}


def _text(label: str, *, placeholder: str = "", autocomplete: str = "off", inputmode: str = "", max_length: int = 64, **kw) -> forms.CharField:
    attrs = dict(INPUT, placeholder=placeholder, autocomplete=autocomplete)
    if inputmode:
        attrs["inputmode"] = inputmode
    return forms.CharField(label=label, max_length=max_length, widget=forms.TextInput(attrs=attrs), **kw)


class MobileForm(forms.Form):
    mobile = _text("手机号码", placeholder="请输入11位手机号码", autocomplete="tel", inputmode="tel", max_length=20)

    def clean_mobile(self):
        return validate_mobile(self.cleaned_data["mobile"])


class RegisterForm(MobileForm):
    person_type = forms.ChoiceField(label="用户类型", choices=PersonType.choices, widget=forms.RadioSelect)
    name = _text("姓名", placeholder="请输入证件上的姓名", autocomplete="name", max_length=NAME_MAX + 10)  # room for edge spaces; the validator says how long
    id_type = forms.ChoiceField(label="证件类型", choices=IdType.choices, initial=IdType.RESIDENT_ID, widget=forms.Select(attrs={"class": "weui-select"}))
    id_number = _text("证件号码", placeholder="请输入证件号码", max_length=40)
    sms_code = _text("短信验证码", placeholder="6位数字", autocomplete="one-time-code", inputmode="numeric", max_length=10, required=False)
    password = forms.CharField(label="设置密码", max_length=64, widget=forms.PasswordInput(attrs=dict(INPUT, placeholder="8至32位，含字母、数字、符号中至少两种", autocomplete="new-password")))
    password2 = forms.CharField(label="确认密码", max_length=64, widget=forms.PasswordInput(attrs=dict(INPUT, placeholder="请再次输入密码", autocomplete="new-password")))
    agree = forms.BooleanField(label="我已阅读并同意《个人信息保护告知书》", error_messages={"required": "请阅读并同意个人信息保护告知书"})
    idem = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_name(self):
        return validate_person_name(self.cleaned_data["name"])

    def clean(self):
        data = super().clean()
        if "id_type" in data and "id_number" in data:
            try:
                data["id_number"] = validate_id_number(data["id_type"], data["id_number"], today=clock.today())
            except ValidationError as exc:
                self.add_error("id_number", exc)
        password = data.get("password")
        if password:
            if data.get("password2") and password != data["password2"]:
                self.add_error("password2", "两次输入的密码不一致")
            try:
                validate_password(password, id_number=data.get("id_number", ""), mobile=data.get("mobile", ""))
            except ValidationError as exc:
                self.add_error("password", exc)
        code = data.get("sms_code", "")
        if not code:
            self.add_error("sms_code", "请输入短信验证码")
        else:
            try:
                data["sms_code"] = validate_sms_code(code)
            except ValidationError as exc:
                self.add_error("sms_code", exc)
        return data


class LoginForm(forms.Form):
    identifier = _text("证件号码或手机号码", placeholder="请输入证件号码或手机号码", autocomplete="username", max_length=40)
    password = forms.CharField(label="密码", max_length=64, widget=forms.PasswordInput(attrs=dict(INPUT, placeholder="请输入密码", autocomplete="current-password")))


class CodeForm(forms.Form):
    sms_code = _text("短信验证码", placeholder="6位数字", autocomplete="one-time-code", inputmode="numeric", max_length=10)

    def clean_sms_code(self):
        return validate_sms_code(self.cleaned_data["sms_code"])


class ChangeMobileForm(MobileForm):
    sms_code = _text("短信验证码", placeholder="发送至新手机号的6位数字", autocomplete="one-time-code", inputmode="numeric", max_length=10, required=False)
    password = forms.CharField(label="登录密码", max_length=64, widget=forms.PasswordInput(attrs=dict(INPUT, placeholder="请输入登录密码以确认本人操作", autocomplete="current-password")), required=False)

    def clean(self):
        data = super().clean()
        code = data.get("sms_code", "")
        if not code:
            self.add_error("sms_code", "请输入短信验证码")
        else:
            try:
                data["sms_code"] = validate_sms_code(code)
            except ValidationError as exc:
                self.add_error("sms_code", exc)
        if not data.get("password"):
            self.add_error("password", "请输入登录密码")
        return data


class AddressForm(forms.Form):
    address = forms.CharField(label="联系地址", max_length=200, widget=forms.Textarea(attrs={"class": "weui-textarea", "rows": 3, "placeholder": "请输入新的联系地址，如：南宁市青秀区民族大道100号"}))

    def clean_address(self):
        return validate_address(self.cleaned_data["address"])
