"""The Python widget renderer gives exactly the markup of Django's templates."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from shebao.common.form_renderer import FastWidgetRenderer
from shebao.fees.forms import DeclareForm

NASTY = '"<b>&\'x'


class SampleForm(forms.Form):
    text = forms.CharField(max_length=8, widget=forms.TextInput(attrs={"class": "weui-input", "inputmode": "decimal", "data-x": NASTY}))
    hidden = forms.CharField(widget=forms.HiddenInput)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    email = forms.EmailField(required=False)
    number = forms.IntegerField(required=False)
    agree = forms.BooleanField(required=False)
    flag = forms.BooleanField(required=False, widget=forms.CheckboxInput(attrs={"disabled": True, "aria-describedby": "h"}))
    one = forms.ChoiceField(choices=[("", "请选择"), ("a", "甲"), (NASTY, NASTY), ("c", mark_safe("<i>丙</i>"))])
    grouped = forms.ChoiceField(choices=[("组一", [("1", "一"), ("2", "二")]), ("组二", [("3", NASTY)])])
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y"), ("z", NASTY)], widget=forms.CheckboxSelectMultiple)
    radio = forms.ChoiceField(choices=[("1", "男"), ("2", "女")], widget=forms.RadioSelect)
    multi_select = forms.MultipleChoiceField(choices=[("p", "P"), ("q", "Q")], required=False)
    note = forms.CharField(widget=forms.Textarea, required=False)


DATA = {"text": NASTY, "hidden": "h1", "secret": "pw<>", "email": "a@b.cn", "number": "12", "agree": "on", "one": NASTY,
        "grouped": "3", "many": ["x", "z"], "radio": "2", "multi_select": ["q"], "note": NASTY}


def _render_all(form: forms.Form) -> list[str]:
    out = []
    for bound in form:
        out.append(str(bound))  # the whole widget
        out.extend(str(sub.tag()) for sub in bound.subwidgets)  # {{ box.tag }}, as our templates iterate
        out.extend(str(sub) for sub in bound.subwidgets)  # with the label wrapped
    return out


@pytest.mark.parametrize("data", [None, DATA, {"one": "zzz", "many": ["nope"]}], ids=["unbound", "bound", "invalid"])
def test_every_widget_renders_exactly_as_django_templates(data):
    fast = SampleForm(data, renderer=FastWidgetRenderer())
    django_form = SampleForm(data, renderer=DjangoTemplates())
    if data is not None:
        fast.is_valid()
        django_form.is_valid()
    ours, theirs = _render_all(fast), _render_all(django_form)
    assert ours == theirs
    assert any("&lt;b&gt;&amp;" in html for html in ours)  # the nasty value was escaped, not dropped


def test_declare_form_renders_as_django_templates():
    kwargs = {"type_choices": [("10210-FLEX", "企业职工基本养老保险")], "year_choices": [(2026, "2026年度"), (2025, "2025年度")],
              "period_choices": [(f"2026-{m:02d}", f"2026年{m}月") for m in range(1, 13)], "grade_choices": [("300", "300元")],
              "initial": {"contribution_year": 2026, "period_from": "2026-03", "period_to": "2026-05", "idem": "k"}}
    ours = _render_all(DeclareForm(renderer=FastWidgetRenderer(), **kwargs))
    theirs = _render_all(DeclareForm(renderer=DjangoTemplates(), **kwargs))
    assert ours == theirs
    assert any('value="2026-03" selected' in html for html in ours)


def test_the_setting_uses_the_fast_renderer():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FastWidgetRenderer)
