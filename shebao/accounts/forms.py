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
from shebao.reference.models import IdType, PersonType

INPUT = {"class": "weui-input"}


def _text(label: str, *, placeholder: str = "", autocomplete: str = "off", inputmode: str = "", max_length: int = 64, **kw) -> forms.CharField:
    attrs = dict(INPUT, placeholder=placeholder, autocomplete=autocomplete)
    if inputmode:
        attrs["inputmode"] = inputmode
    return forms.CharField(label=label, max_length=max_length, widget=forms.TextInput(attrs=attrs), **kw)


def _password_input(placeholder: str, autocomplete: str) -> forms.PasswordInput:
    """A password box that shows again what was typed when the page comes back with an
    error elsewhere (issue 8: "password fields are cleared after any form error"); each
    form says when the password itself was wrong and is cleared (``_forget_passwords``)."""
    return forms.PasswordInput(attrs=dict(INPUT, placeholder=placeholder, autocomplete=autocomplete), render_value=True)


def _forget_passwords(form: forms.Form, *names: str) -> None:
    for name in names:
        form.fields[name].widget.render_value = False


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
    password = forms.CharField(label="设置密码", max_length=64, widget=_password_input("8至32位，含字母、数字、符号中至少两种", "new-password"))
    password2 = forms.CharField(label="确认密码", max_length=64, widget=_password_input("请再次输入密码", "new-password"))
    agree = forms.BooleanField(label="我已阅读并同意《个人信息保护告知书》", error_messages={"required": "请阅读并同意个人信息保护告知书"})
    idem = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # What 获取验证码 needs: the identity and the mobile; the rest comes after the code.
    CODE_STAGE_OPTIONAL = ("sms_code", "password", "password2", "agree", "idem")

    def __init__(self, *args, for_code: bool = False, **kwargs):
        """``for_code=True``: validate only the identity and the mobile (before a code is sent)."""
        super().__init__(*args, **kwargs)
        self.for_code = for_code
        if for_code:
            for name in self.CODE_STAGE_OPTIONAL:
                self.fields[name].required = False

    def clean_name(self):
        return validate_person_name(self.cleaned_data["name"])

    def full_clean(self):
        """Both passwords are kept when the error is elsewhere (a wrong code, a typo in
        the ID number, the refusal of the service); a weak or mismatched password
        clears both, to be typed again."""
        super().full_clean()
        if self._errors and {"password", "password2"} & set(self._errors):
            _forget_passwords(self, "password", "password2")

    def clean(self):
        data = super().clean()
        if "id_type" in data and "id_number" in data:
            try:
                data["id_number"] = validate_id_number(data["id_type"], data["id_number"], today=clock.today())
            except ValidationError as exc:
                self.add_error("id_number", exc)
        if self.for_code:
            return data
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
    password = forms.CharField(label="密码", max_length=64, widget=_password_input("请输入密码", "current-password"))

    def add_error(self, field, error):
        """The form's own errors (no identifier) keep the password typed; a refusal by the
        service (``add_error(None, ...)``: wrong identifier or password, locked, too many
        tries; it does not say which was wrong) clears it."""
        super().add_error(field, error)
        if field in (None, "password"):
            _forget_passwords(self, "password")


class CodeForm(forms.Form):
    sms_code = _text("短信验证码", placeholder="6位数字", autocomplete="one-time-code", inputmode="numeric", max_length=10)

    def clean_sms_code(self):
        return validate_sms_code(self.cleaned_data["sms_code"])


class ChangeMobileForm(MobileForm):
    sms_code = _text("短信验证码", placeholder="发送至新手机号的6位数字", autocomplete="one-time-code", inputmode="numeric", max_length=10, required=False)
    password = forms.CharField(label="登录密码", max_length=64, widget=_password_input("请输入登录密码以确认本人操作", "current-password"), required=False)

    def add_error(self, field, error):
        """The password is kept when the error is elsewhere (the new number, the code);
        cleared when the service says the password was wrong (its message names it)."""
        super().add_error(field, error)
        if field == "password" or (field is None and "密码" in " ".join(ValidationError(error).messages)):
            _forget_passwords(self, "password")

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
