"""退费 pages: the person's applications, the normal refund (own receipts or a virtual
account's lines), the special refund (by receipt, or by a refund assessment sheet), one
application's timeline and its decision letter, and the letter's public verification.
Thin: parse, call one service or selector, render."""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote as quote_filename
from urllib.parse import urlencode

from django import forms as django_forms
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from shebao.accounts.views import citizen_required
from shebao.common import clock, crypto
from shebao.common.actor import request_actor
from shebao.fees.selectors import payer_profile_for
from shebao.refunds import selectors, services
from shebao.refunds.forms import NormalRefundForm, SheetForm, clean_virtual_account_id

ARRIVAL_NOTE = "退库成功后，款项一般在3至5个工作日内退回您的银行账户，具体以银行到账时间为准。"
NO_RECEIPT_PROMPT = ("未查询到申请退费缴费人是税票信息，请确认是否为城乡居民由虚拟户征收场景，"
                     "如果是，请勾选虚拟户模式并录入虚拟户识别号")


@citizen_required
def index(request):
    return render(request, "refunds/index.html", {"applications": selectors.application_list(account=request.user)})


def with_profile(template: str):
    """A refund page of a signed-in person with a payer profile at the core; without one,
    ``template`` says so (no insured record); a person who may not apply at all (the no-refund
    special-person list) is told so on opening the page, before filling anything in."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            profile = payer_profile_for(request.user)
            if profile is None:
                return render(request, template, {"profile": None})
            refusal = selectors.person_refusal(registration_no=profile.registration_no)
            if refusal:
                return render(request, template, {"profile": profile, "person_refusal": refusal})
            return view(request, profile, *args, **kwargs)

        return citizen_required(require_http_methods(["GET", "POST"])(wrapper))

    return decorate


def _bound(request, form_class, **kwargs):
    """The form bound to the POST (unbound on GET), a fresh idempotency key, the holder's name."""
    return form_class(request.POST if request.method == "POST" else None,
                      initial={"idem": crypto.random_token(), "holder_name": request.user.name, **kwargs.pop("initial", {})}, **kwargs)


def _account(d: dict) -> services.RefundAccount:
    return services.RefundAccount(bank_code=d["bank_code"], account_number=d["account_number"], holder_name=d["holder_name"])


def _submit(request, form, ctx: dict, template: str, apply, back: str):
    """Run ``apply()`` for a valid POST: the application's page, the step-up, or the form again."""
    if request.method == "GET" or not form.is_valid():
        return render(request, template, ctx, status=200 if request.method == "GET" else 400)
    try:
        application = apply(form.cleaned_data)
    except services.StepUpRequired:
        return redirect(f"{reverse('accounts:step_up')}?{urlencode({'next': back})}")
    except services.RefundError as exc:
        form.add_error(None, str(exc))
        return render(request, template, ctx, status=400)
    return redirect("refunds:detail", public_id=application.public_id)


def _virtual_mode(request) -> dict:
    """The virtual-account box and what was asked with it: the identifier, or a name search."""
    source = request.POST if request.method == "POST" else request.GET
    mode = {"on": source.get("va") == "1" or bool(request.POST.get("va_id")), "va_id": "", "va": None, "error": "",
            "q": (request.GET.get("q") or "")[:60], "found": None}
    if not mode["on"]:
        return mode
    if mode["q"] and request.method == "GET" and not request.GET.get("va_id"):
        try:
            mode["found"] = selectors.virtual_account_search(mode["q"])
        except services.RefundError as exc:
            mode["error"] = str(exc)
        return mode
    try:
        mode["va_id"] = clean_virtual_account_id(source.get("va_id", ""))
    except django_forms.ValidationError as exc:
        mode["error"] = exc.messages[0]
        return mode
    mode["va"] = selectors.virtual_account_get(mode["va_id"])
    if mode["va"] is None:
        mode["error"], mode["va_id"] = "未查询到该虚拟户识别号，请核对后重新录入，或按虚拟户名称查找", ""
    return mode


@with_profile("refunds/normal.html")
def normal(request, profile):
    mode = _virtual_mode(request)
    choices = [] if mode["on"] and not mode["va_id"] else selectors.normal_refund_choices(
        registration_no=profile.registration_no, virtual_account=mode["va_id"])
    item_choices = [(c.key, f"{c.item.insurance_type} {c.period_label}") for c in choices if c.refusal is None]
    form = _bound(request, NormalRefundForm, item_choices=item_choices, initial={"va_id": mode["va_id"]})
    ctx = {"profile": profile, "choices": choices, "form": form, "arrival_note": ARRIVAL_NOTE, "mode": mode,
           "no_receipt_prompt": NO_RECEIPT_PROMPT}

    def apply(d):
        code, period = d["item"].split(":", 1)
        return services.refund_apply_normal(actor=request_actor(request), registration_no=profile.registration_no,
                                            insurance_type_code=code, period=period, to=_account(d), idempotency_key=d["idem"],
                                            now=clock.now(), virtual_account=mode["va_id"])

    back = reverse("refunds:normal") + (f"?{urlencode({'va': '1', 'va_id': mode['va_id']})}" if mode["va_id"] else "")
    return _submit(request, form, ctx, "refunds/normal.html", apply, back)


@with_profile("refunds/special.html")
def special(request, profile):
    """特殊缴费退费申请 by a paid receipt of the special form (whole only)."""
    choices = selectors.special_refund_choices(registration_no=profile.registration_no)
    item_choices = [(c.key, f"{c.item.insurance_type} {c.period_label}") for c in choices if c.refusal is None]
    form = _bound(request, NormalRefundForm, item_choices=item_choices)
    ctx = {"profile": profile, "choices": choices, "form": form, "arrival_note": ARRIVAL_NOTE}

    def apply(d):
        code, period = d["item"].split(":", 1)
        return services.refund_apply_special(actor=request_actor(request), registration_no=profile.registration_no,
                                             insurance_type_code=code, period=period, to=_account(d), idempotency_key=d["idem"],
                                             now=clock.now())

    return _submit(request, form, ctx, "refunds/special.html", apply, reverse("refunds:special"))


@with_profile("refunds/sheet.html")
def special_sheet(request, profile):
    """录入核定退费单: every field of the sheet, then the assessed (possibly partial) refund."""
    form = _bound(request, SheetForm)
    ctx = {"profile": profile, "form": form, "arrival_note": ARRIVAL_NOTE}

    def apply(d):
        sheet = services.SheetEntry(sheet_no=d["sheet_no"], agency=d["agency"].strip(), insurance_type_code=d["insurance_type_code"],
                                    period=d["period"], paid_amount=d["paid_amount"], amount=d["amount"], reason=d["reason"].strip(),
                                    assessed_on=d["assessed_on"], handler=d["handler"].strip())
        return services.refund_apply_special(actor=request_actor(request), registration_no=profile.registration_no, to=_account(d),
                                             idempotency_key=d["idem"], now=clock.now(), sheet=sheet)

    return _submit(request, form, ctx, "refunds/sheet.html", apply, reverse("refunds:special_sheet"))


def _own(request, public_id: str):
    application = selectors.application_get(account=request.user, public_id=public_id)
    if application is None:
        raise Http404("未找到该退费申请")
    return application


@citizen_required
def detail(request, public_id: str):
    application = _own(request, public_id)
    return render(request, "refunds/detail.html", {"a": application, "timeline": selectors.timeline(application),
                                                   "arrival_note": ARRIVAL_NOTE})


@citizen_required
def decision_pdf(request, public_id: str):
    """The decision letter (退费决定书: 同意退费 / 不予退费) once the refund is decided."""
    from shebao.refunds.pdf import render_decision_pdf

    application = _own(request, public_id)
    if not application.decided:
        raise Http404("退费尚未办结，办结后可下载退费决定书")
    verify_url = request.build_absolute_uri(reverse("refunds:verify", args=[application.verify_code]))
    response = HttpResponse(render_decision_pdf(application, verify_url=verify_url), content_type="application/pdf")
    name = quote_filename(f"退费决定书-{application.application_no}.pdf")
    response["Content-Disposition"] = f"attachment; filename=\"refund-{application.application_no}.pdf\"; filename*=UTF-8''{name}"
    return response


def verify(request, code: str):
    """Public check of a decision letter reached by its QR code: genuine or not, masked."""
    application = selectors.application_by_verify_code(code)
    return render(request, "refunds/verify.html", {"a": application, "code": code[:32]}, status=200 if application else 404)
