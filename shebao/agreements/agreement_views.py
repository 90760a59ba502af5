"""委托扣款缴费协议 pages: sign a three-party or two-party agreement, see one with its
timeline, verify (three-party; after the bank counter for a paper one), ask the bank again
(two-party), cancel; and 委托扣款协议查询, the list of both kinds. Thin: validate the form,
call one service, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from shebao.accounts.views import citizen_required
from shebao.agreements import agreement_services as services
from shebao.agreements import selectors
from shebao.agreements.forms import ThreePartyForm, TwoPartyForm
from shebao.common import clock
from shebao.common.actor import request_actor
from shebao.fees.selectors import payer_profile_for


def _step_up(next_url: str):
    return redirect(f"{reverse('accounts:step_up')}?{urlencode({'next': next_url})}")


@citizen_required
def agreement_list(request):
    return render(request, "agreements/list.html", {"lines": selectors.agreement_list(account=request.user)})


@citizen_required
@require_http_methods(["GET", "POST"])
def three_party_new(request):
    form = ThreePartyForm(request.POST or None, initial={"account_name": request.user.name})
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        to = services.AccountEntry(data["bank_code"], data["account_number"], data["account_name"])
        try:
            row = services.three_party_create(actor=request_actor(request), profile=payer_profile_for(request.user), to=to,
                                              method=data["method"], sign=data["sign"], now=clock.now())
        except services.StepUpRequired:
            return _step_up(reverse("agreements:three_party_new"))
        except services.AgreementError as exc:
            error = str(exc)
        else:
            messages.success(request, f"已签署三方协议，协议书号 {row.agreement_no}")
            return redirect("agreements:three_party", row.public_id)
    return render(request, "agreements/three_party_new.html", {"form": form, "error": error},
                  status=400 if request.method == "POST" else 200)


@citizen_required
@require_http_methods(["GET", "POST"])
def three_party(request, public_id: str):
    row = selectors.three_party_get(account=request.user, public_id=public_id)
    if row is None:
        raise Http404
    if request.method == "POST":
        action, now, actor = request.POST.get("action", ""), clock.now(), request_actor(request)
        try:
            if action == "verify":
                row = services.three_party_verify(actor=actor, agreement=row, now=now)
                if row.state == "verified":
                    messages.success(request, "协议验证通过，已生效")
                elif row.failure_reason:
                    messages.error(request, row.failure_reason)
            elif action == "cancel":
                services.three_party_cancel(actor=actor, agreement=row, now=now)
                messages.success(request, "协议已解除")
        except services.AgreementError as exc:
            messages.error(request, str(exc))
        return redirect("agreements:three_party", row.public_id)
    return render(request, "agreements/detail.html", {"a": row, "kind": "three_party", "timeline": selectors.agreement_timeline(row)})


@citizen_required
@require_http_methods(["GET", "POST"])
def two_party_new(request):
    form = TwoPartyForm(request.POST or None, initial={"account_name": request.user.name})
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = None if data["whom"] == "self" else services.PersonEntry(data["other_id_type"], data["other_id_number"],
                                                                          data["other_name"])
        to = services.AccountEntry(data["bank_code"], data["account_number"], data["account_name"])
        try:
            row = services.two_party_create(actor=request_actor(request), profile=payer_profile_for(request.user), person=person,
                                            to=to, sign=data["sign"], now=clock.now())
        except services.StepUpRequired:
            return _step_up(reverse("agreements:two_party_new"))
        except services.AgreementError as exc:
            error = str(exc)
        else:
            messages.success(request, f"已签署两两协议，协议编号 {row.agreement_no}")
            return redirect("agreements:two_party", row.public_id)
    return render(request, "agreements/two_party_new.html", {"form": form, "error": error},
                  status=400 if request.method == "POST" else 200)


@citizen_required
@require_http_methods(["GET", "POST"])
def two_party(request, public_id: str):
    row = selectors.two_party_get(account=request.user, public_id=public_id)
    if row is None:
        raise Http404
    if request.method == "POST":
        action, now, actor = request.POST.get("action", ""), clock.now(), request_actor(request)
        try:
            if action == "check":
                services.two_party_bank_check(actor=actor, agreement=row, now=now)
            elif action == "cancel":
                services.two_party_cancel(actor=actor, agreement=row, now=now)
                messages.success(request, "协议已解除")
        except services.AgreementError as exc:
            messages.error(request, str(exc))
        return redirect("agreements:two_party", row.public_id)
    return render(request, "agreements/detail.html", {"a": row, "kind": "two_party", "timeline": selectors.agreement_timeline(row)})
