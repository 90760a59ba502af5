"""The form renderer: Django's own widget templates, with the few that every page
uses written out in Python.

Django renders each ``<input>``, ``<select>`` and ``<option>`` through the template
engine; a select of twelve months is fourteen template renders. Measured on the
declare page that was over half of its rendering time (docs/performance.md). The
functions below produce the same markup as Django 5.2's templates of the same name
(``django/forms/templates/django/forms/widgets/``), escaped the same way;
tests/common/test_form_renderer.py renders every widget both ways and compares.
Any other template goes to the template engine as before."""

from __future__ import annotations

import html

from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

_W = "django/forms/widgets/"


def _escape(value) -> str:
    """``django.utils.html.conditional_escape`` without its lazy-string wrapper:
    safe strings as they are, anything else through the same ``html.escape``."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _attrs(attrs: dict) -> str:
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {_escape(name)}" if value is True else f' {_escape(name)}="{_escape(str(value))}"')
    return "".join(out)


def _input(w: dict) -> str:
    value = "" if w["value"] is None else f' value="{_escape(str(w["value"]))}"'
    return f'<input type="{_escape(w["type"])}" name="{_escape(w["name"])}"{value}{_attrs(w["attrs"])}>'


def _input_option(w: dict) -> str:
    if not w.get("wrap_label"):
        return _input(w)
    label_for = f' for="{_escape(w["attrs"]["id"])}"' if w["attrs"].get("id") else ""
    # the included input.html brings its file's final newline; only the outer render strips
    return f'<label{label_for}>{_input(w)}\n {_escape(w["label"])}</label>'


def _select_option(w: dict) -> str:
    return f'<option value="{_escape(str(w["value"]))}"{_attrs(w["attrs"])}>{_escape(w["label"])}</option>'


def _option(o: dict) -> str:
    render = _PYTHON.get(o["template_name"])
    if render is None:  # a custom option template: not ours to guess
        raise LookupError(o["template_name"])
    return render(o)


def _select(w: dict) -> str:
    parts = [f'<select name="{_escape(w["name"])}"{_attrs(w["attrs"])}>']
    for group_name, group_choices, _index in w["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_escape(group_name)}">')
        for option in group_choices:
            parts.append("\n  " + _option(option) + "\n")  # an included option template keeps its final newline
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


_INPUTS = ("input", "text", "hidden", "password", "email", "number", "url", "tel", "search", "checkbox", "date", "datetime",
           "time", "color")
_PYTHON = {
    **{f"{_W}{name}.html": _input for name in _INPUTS},
    f"{_W}input_option.html": _input_option,
    f"{_W}checkbox_option.html": _input_option,
    f"{_W}radio_option.html": _input_option,
    f"{_W}select_option.html": _select_option,
    f"{_W}select.html": _select,
}


class FastWidgetRenderer(DjangoTemplates):
    """``FORM_RENDERER``: the common widget templates in Python, the rest as Django does."""

    def render(self, template_name, context, request=None):
        render = _PYTHON.get(template_name)
        if render is not None and "widget" in context:
            try:
                return mark_safe(render(context["widget"]))  # noqa: S308 - every value above is escaped
            except LookupError:
                pass
        return super().render(template_name, context, request)
