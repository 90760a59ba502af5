"""退费 pages: the person's applications, the normal refund application, one application's
timeline. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from shebao.accounts.views import citizen_required
from shebao.common import clock, crypto
from shebao.common.actor import request_actor
from shebao.fees.selectors import payer_profile_for
from shebao.refunds import selectors, services
from shebao.refunds.forms import NormalRefundForm

ARRIVAL_NOTE = "退库成功后，款项一般在3至5个工作日内退回您的银行账户，具体以银行到账时间为准。"


@citizen_required
def index(request):
    return render(request, "refunds/index.html", {"applications": selectors.application_list(account=request.user)})


@citizen_required
@require_http_methods(["GET", "POST"])
def normal(request):
    account = request.user
    profile = payer_profile_for(account)
    if profile is None:
        return render(request, "refunds/normal.html", {"profile": None})
    choices = selectors.normal_refund_choices(registration_no=profile.registration_no)
    item_choices = [(c.key, f"{c.item.insurance_type} {c.period_label}") for c in choices if c.refusal is None]
    data = request.POST if request.method == "POST" else None
    form = NormalRefundForm(data, item_choices=item_choices,
                            initial={"idem": crypto.random_token(), "holder_name": account.name})
    ctx = {"profile": profile, "choices": choices, "form": form, "arrival_note": ARRIVAL_NOTE}
    if request.method == "GET" or not form.is_valid():
        return render(request, "refunds/normal.html", ctx, status=200 if request.method == "GET" else 400)
    d = form.cleaned_data
    code, period = d["item"].split(":", 1)
    to = services.RefundAccount(bank_code=d["bank_code"], account_number=d["account_number"], holder_name=d["holder_name"])
    try:
        application = services.refund_apply_normal(actor=request_actor(request), registration_no=profile.registration_no,
                                                   insurance_type_code=code, period=period, to=to, idempotency_key=d["idem"],
                                                   now=clock.now())
    except services.StepUpRequired:
        return redirect(f"{reverse('accounts:step_up')}?{urlencode({'next': reverse('refunds:normal')})}")
    except services.RefundError as exc:
        form.add_error(None, str(exc))
        return render(request, "refunds/normal.html", ctx, status=400)
    return redirect("refunds:detail", public_id=application.public_id)


@citizen_required
def detail(request, public_id: str):
    application = selectors.application_get(account=request.user, public_id=public_id)
    if application is None:
        raise Http404("未找到该退费申请")
    return render(request, "refunds/detail.html", {"a": application, "timeline": selectors.timeline(application),
                                                   "arrival_note": ARRIVAL_NOTE})
